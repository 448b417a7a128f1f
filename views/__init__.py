"""Everything a person sees: texts, keyboards, callback data, labels, charts, files, i18n."""
