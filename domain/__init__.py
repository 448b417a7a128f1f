"""Pure logic: no database, no Telegram, no clock reads."""
