"""The action forms of the need and proposal pages, as data: one form per action,
its fields named exactly as the JSON API's body fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.pages import labels
from domain.reference import CityData


@dataclass(frozen=True)
class Field:
    """One form field: its API name, label, kind and choices."""

    name: str
    ja: str
    en: str
    kind: str = "text"  # text, textarea, number, date, select, checkbox, checkboxes
    required: bool = False
    choices: tuple[tuple[str, str, str], ...] = ()  # (value, Japanese, English)
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class ActionForm:
    """The form of one action, posting to `/{kind}/{id}/{action}`."""

    action: str
    fields: list[Field] = field(default_factory=list)
    #: a hint shown above the button
    hint_ja: str = ""
    hint_en: str = ""


def _choices(table: dict[str, tuple[str, str]]) -> tuple[tuple[str, str, str], ...]:
    return tuple((code, ja, en) for code, (ja, en) in table.items())


def _ref_choices(items: tuple[object, ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((str(getattr(i, "id")), str(getattr(i, "name_ja")),  # noqa: B009
                  str(getattr(i, "name_en"))) for i in items)  # noqa: B009


def _feedback() -> list[Field]:
    return [Field("message", "伝えた内容", "Message", "textarea", True),
            Field("channel", "伝え方", "Channel", "select", True, _choices(labels.CHANNELS)),
            Field("delivered_on", "伝えた日", "Delivered on", "date", True)]


def need_forms(city: CityData, merge_targets: list[tuple[str, str]] | None = None
               ) -> dict[str, ActionForm]:
    """The forms of a need's actions; `merge_targets` (id, title) are the needs it may join."""
    areas = _ref_choices(city.policy_areas)
    into = (Field("into", "統合先のニーズ", "Need to merge into", "select", True,
                  tuple((i, t, t) for i, t in merge_targets))
            if merge_targets is not None else
            Field("into", "統合先のニーズID", "Need to merge into (id)", "text", True))
    return {
        "triage": ActionForm("triage", [
            Field("policy_area", "施策分野（変更する場合）", "Policy area (to change it)", "select",
                  choices=areas),
            Field("urgency", "緊急度（変更する場合）", "Urgency (to change it)", "select",
                  choices=_choices(labels.URGENCIES)),
            Field("note", "メモ", "Note", "textarea")]),
        "resolve-locally": ActionForm("resolve-locally", [
            Field("note", "区での対応内容", "How the ward resolved it", "textarea", True)]),
        "decline": ActionForm("decline", [
            Field("reason", "見送る理由", "Reason", "textarea", True)]),
        "merge": ActionForm("merge", [into]),
        "feedback": ActionForm("feedback", _feedback()),
        "amend": ActionForm("amend", [
            Field("title", "件名", "Title"),
            Field("description", "内容", "Description", "textarea"),
            Field("urgency", "緊急度", "Urgency", "select", choices=_choices(labels.URGENCIES)),
            Field("residents_affected", "関係する住民の数", "Residents affected", "number",
                  minimum=0)],
            "直す項目だけ入力してください", "Fill in only what changes"),
    }


def proposal_forms(city: CityData) -> dict[str, ActionForm]:
    """The forms of a proposal's actions."""
    departments = _ref_choices(city.departments)
    fiscal = Field("fiscal_year", "年度（西暦）", "Fiscal year", "number", True,
                   minimum=2000, maximum=2100)
    return {
        "amend": ActionForm("amend", [
            Field("title", "件名", "Title"), Field("summary", "概要", "Summary", "textarea"),
            Field("estimated_cost_jpy", "概算費用（円）", "Estimated cost (yen)", "number",
                  minimum=0)],
            "変更する項目だけ入力してください", "Fill in only what changes"),
        "submit": ActionForm("submit", [], "区長として本庁へ提出します",
                             "Submit to head office as ward mayor"),
        "acknowledge": ActionForm("acknowledge", [Field("note", "メモ", "Note", "textarea")]),
        "request-info": ActionForm("request-info", [
            Field("question", "照会内容", "Question", "textarea", True)],
            "回答があるまで決定の期限は止まります", "The decision clock pauses until answered"),
        "provide-info": ActionForm("provide-info", [
            Field("answer", "回答", "Answer", "textarea", True)]),
        "start-review": ActionForm("start-review"),
        "decide": ActionForm("decide", [
            Field("decision", "決定", "Decision", "select", True, _choices(labels.DECISIONS)),
            Field("reason", "理由", "Reason", "textarea", True),
            Field("deferred_to_fiscal_year", "保留先の年度（保留の場合）",
                  "Deferred to fiscal year", "number", minimum=2000, maximum=2100)]),
        "request-budget": ActionForm("request-budget", [
            fiscal,
            Field("amount_jpy", "要求額（円）", "Amount (yen)", "number", True, minimum=0)]),
        "record-budget": ActionForm("record-budget", [
            Field("outcome", "結果", "Outcome", "select", True, _choices(labels.BUDGET_OUTCOMES)),
            fiscal, Field("amount_jpy", "予算額（円）", "Amount (yen)", "number", minimum=0)]),
        "start-implementation": ActionForm("start-implementation", [
            Field("note", "メモ", "Note", "textarea")]),
        "complete": ActionForm("complete", [
            Field("summary", "実施した内容", "What was done", "textarea", True)]),
        "withdraw": ActionForm("withdraw", [
            Field("reason", "取り下げる理由", "Reason", "textarea", True),
            Field("return_needs", "ニーズを受付済みに戻す", "Return the needs to triage",
                  "checkbox")]),
        "merge": ActionForm("merge", [
            Field("into", "統合先の事業提案ID", "Proposal to merge into (id)", "text", True),
            Field("reason", "理由", "Reason", "textarea", True)]),
        "transfer": ActionForm("transfer", [
            Field("to_department", "移管先の課", "Division to lead instead", "select", True,
                  departments),
            Field("reason", "理由", "Reason", "textarea", True)]),
        "feedback": ActionForm("feedback", _feedback()),
        "evaluate": ActionForm("evaluate", [
            Field("satisfaction", "満足度（1〜5）", "Satisfaction (1–5)", "number", True,
                  minimum=1, maximum=5),
            Field("note", "メモ", "Note", "textarea")]),
        "comment": ActionForm("comment", [Field("body", "意見", "Comment", "textarea", True)]),
        "notice": ActionForm("notice", [
            Field("body", "内容", "Notice", "textarea", True),
            Field("wards", "知らせる区", "Wards", "checkboxes", True, _ref_choices(city.wards))]),
    }
