"""Pressing forged buttons through the bot harness: every press is answered (a toast or an
alert), nothing raises to the error handler, and so no admin is alerted."""

from __future__ import annotations

from tests.stub_botapi import SentMessage, StubBotApi
from views.i18n import gettext, use_locale

CHANGED = "This has changed since the button was shown. Nothing was done."
ALERT_MARKS = ("⚠️", "Sorry, something went wrong")
BIG = str(2**63)  # past every integer column: the codec refuses it before the database sees it


async def press_all(stub: StubBotApi, user: int, message: SentMessage, datas: list[str]) -> list[str]:
    """Press each forged button and return the answers' texts, in order."""
    answers = []
    for data in datas:
        update = stub.press_button(user, message, data, forged=True)
        query_id = update["callback_query"]["id"]
        answer = await stub.await_for(lambda qid=query_id: stub.callback_answer(qid), timeout=20)
        answers.append(str(answer.get("text") or ""))
    return answers


def admin_alerts(stub: StubBotApi) -> list[str]:
    """Texts of the error alerts and apologies the bot sent to anyone."""
    return [m.raw_text or "" for m in stub.sent_messages()
            if any(mark in (m.raw_text or "") for mark in ALERT_MARKS)]


def translated(text: str, language: str) -> str:
    with use_locale(language):
        return gettext(text)
