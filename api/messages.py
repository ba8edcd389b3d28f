"""Messages for people, rendered at the edge from an error's code and parameters.

Japanese first, English beside it; a page or client asks for one language and gets
that language alone. Status, action and field names appear in the reader's language
(「下書き」「受理」), never as slugs, and a refusal for scope names the scope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from domain import errors
from domain import permissions as perm
from domain.reference import CityData

Lang = Literal["ja", "en"]

FIELDS: dict[str, tuple[str, str]] = {
    "ward": ("区", "ward"), "office": ("窓口", "office"),
    "school_district": ("校区", "school district"), "source": ("把握の場", "source"),
    "policy_area": ("政策分野", "policy area"), "title": ("件名", "title"),
    "description": ("内容", "description"), "observed_on": ("把握した日", "observed on"),
    "residents_affected": ("関係する住民数", "residents affected"),
    "urgency": ("緊急度", "urgency"), "location": ("場所", "location"),
    "location.lat": ("緯度", "latitude"), "location.lon": ("経度", "longitude"),
    "location.address": ("住所", "address"), "plan_goals": ("総合計画の施策", "plan goals"),
    "reporter": ("申出者", "reporter"), "reporter.name": ("申出者の氏名", "reporter's name"),
    "reporter.contact": ("申出者の連絡先", "reporter's contact"),
    "note": ("メモ", "note"), "reason": ("理由", "reason"), "into": ("統合先", "merge target"),
    "message": ("伝えた内容", "message"), "channel": ("伝え方", "channel"),
    "delivered_on": ("伝えた日", "delivered on"), "summary": ("概要", "summary"),
    "needs": ("ニーズ", "needs"), "lead_department": ("主務課", "lead division"),
    "co_departments": ("関係課", "co-divisions"),
    "estimated_cost_jpy": ("概算費用（円）", "estimated cost (yen)"),
    "question": ("照会内容", "question"), "answer": ("回答", "answer"),
    "decision": ("決定", "decision"),
    "deferred_to_fiscal_year": ("保留先の年度", "deferred to fiscal year"),
    "fiscal_year": ("年度", "fiscal year"), "amount_jpy": ("金額（円）", "amount (yen)"),
    "outcome": ("予算の結果", "budget outcome"), "return_needs": ("ニーズを戻す", "return needs"),
    "to_department": ("移管先の課", "new lead division"),
    "satisfaction": ("満足度", "satisfaction"), "indicators": ("指標", "indicators"),
    "body": ("本文", "body"), "wards": ("通知先の区", "wards"),
    "effective_at": ("実施日時", "effective_at"), "cursor": ("カーソル", "cursor"),
    "changes": ("変更内容", "changes"), "limit": ("件数", "limit"),
    "min_position": ("min_position", "min_position"), "as_of": ("基準日時", "as_of"),
    "since": ("開始日", "since"), "until": ("終了日", "until"), "q": ("検索語", "q"),
    "indicator": ("指標", "indicator"), "value": ("値", "value"),
}

#: units of indicators (domain/indicators.py) → (Japanese, English)
UNITS: dict[str, tuple[str, str]] = {
    "percent": ("割合（%）", "percent"), "count": ("件数", "count"),
    "per_1000_residents": ("住民千人あたり", "per 1,000 residents"),
    "score_1_5": ("1〜5の評点", "score 1–5"), "yen": ("円", "yen"),
}

STATUSES: dict[str, tuple[str, str]] = {
    "recorded": ("記録済み", "recorded"), "triaged": ("受付済み", "triaged"),
    "proposed": ("提案中", "proposed"), "resolved_locally": ("区で対応済み", "resolved locally"),
    "declined": ("見送り", "declined"), "merged": ("統合済み", "merged"),
    "closed": ("完了", "closed"), "draft": ("下書き", "draft"),
    "submitted": ("提出済み", "submitted"), "acknowledged": ("受理", "acknowledged"),
    "info_requested": ("照会中", "information requested"),
    "under_review": ("検討中", "under review"), "accepted": ("採択", "accepted"),
    "rejected": ("不採択", "rejected"), "deferred": ("保留", "deferred"),
    "budget_requested": ("予算要求中", "budget requested"), "budgeted": ("予算化", "budgeted"),
    "not_budgeted": ("予算化見送り", "not budgeted"), "in_progress": ("実施中", "in progress"),
    "completed": ("完了", "completed"), "withdrawn": ("取下げ", "withdrawn"),
}

ACTIONS: dict[str, tuple[str, str]] = {
    "record": ("ニーズの記録", "record a need"), "create": ("事業提案の作成", "draft a proposal"),
    "amend": ("修正", "amend"), "triage": ("受付", "triage"),
    "resolve-locally": ("区で対応", "resolve locally"), "decline": ("見送り", "decline"),
    "merge": ("統合", "merge"), "feedback": ("フィードバック", "feedback"),
    "submit": ("提出", "submit"), "acknowledge": ("受理", "acknowledge"),
    "request-info": ("照会", "request information"),
    "provide-info": ("回答", "provide information"),
    "start-review": ("検討開始", "start review"), "decide": ("決定", "decide"),
    "request-budget": ("予算要求", "request budget"),
    "record-budget": ("予算結果の記録", "record budget"),
    "start-implementation": ("実施開始", "start implementation"),
    "complete": ("完了", "complete"), "withdraw": ("取下げ", "withdraw"),
    "transfer": ("主務課の変更", "transfer"), "evaluate": ("評価", "evaluate"),
    "comment": ("コメント", "comment"), "notice": ("事前通知", "notice"),
    "erase-personal-data": ("個人情報の消去", "erase personal data"),
    "record-observation": ("指標の観測値の記録", "record an indicator observation"),
    "read-personal-data": ("個人情報の閲覧", "read personal data"),
}

KINDS: dict[str, tuple[str, str]] = {
    "need": ("ニーズ", "need"), "proposal": ("事業提案", "proposal"),
    "ward": ("区", "ward"), "office": ("窓口", "office"), "department": ("課", "division"),
    "school_district": ("校区", "school district"), "policy_area": ("政策分野", "policy area"),
    "plan_goal": ("総合計画の施策", "plan goal"), "bureau": ("局", "bureau"),
    "indicator": ("指標", "indicator"), "observation": ("指標の観測値", "observation"),
}

EXPECTED: dict[str, tuple[str, str]] = {
    "text": ("文字列", "a text"), "integer": ("整数", "a whole number"),
    "number": ("数値", "a number"), "boolean": ("true か false", "true or false"),
    "date": ("YYYY-MM-DD 形式の日付", "a date as YYYY-MM-DD"),
    "instant": ("時差付きの ISO 8601 日時（例: 2026-11-20T10:00:00+09:00）",
                "an ISO 8601 instant with its offset (e.g. 2026-11-20T10:00:00+09:00)"),
    "uuid": ("UUID", "a UUID"), "id": ("ID の文字列", "an id string"),
    "list": ("配列", "a list"), "object": ("オブジェクト", "an object"),
}

#: reason of an invalid field → (Japanese, English), with {field} and the parameters
REASONS: dict[str, tuple[str, str]] = {
    "required": ("「{field}」は必須です", "{field} is required"),
    "blank": ("「{field}」を入力してください（空白だけは不可）", "{field} must not be blank"),
    "too_long": ("「{field}」は{max}文字以内で入力してください",
                 "{field} may be at most {max} characters"),
    "too_short": ("「{field}」は{min}件以上必要です", "{field} needs at least {min} items"),
    "too_many": ("「{field}」は{max}件までです", "{field} may hold at most {max} items"),
    "out_of_range": ("「{field}」は{min}から{max}までの値です",
                     "{field} must be from {min} to {max}"),
    "at_least": ("「{field}」は{min}以上の値です", "{field} must be at least {min}"),
    "at_most": ("「{field}」は{max}以下の値です", "{field} must be at most {max}"),
    "wrong_type": ("「{field}」は{expected}で指定してください", "{field} must be {expected}"),
    "not_finite": ("「{field}」に NaN や無限大は使えません", "{field} must be a finite number"),
    "blank_or_control": ("「{field}」を入力してください（空白だけや制御文字は不可）",
                         "{field} must show something and hold no control characters"),
    "not_an_id": ("「{field}」は英小文字・数字・ハイフンの ID で指定してください",
                  "{field} must be an id of lowercase letters, digits and hyphens"),
    "control_character": ("「{field}」に制御文字は使えません",
                          "{field} must not contain control characters"),
    "choice": ("「{field}」は次のいずれかです: {choices}", "{field} must be one of: {choices}"),
    "date_out_of_range": ("「{field}」は{min}から{max}までの日付です",
                          "{field} must lie from {min} to {max}"),
    "naive_instant": ("「{field}」には時差（例: +09:00）を付けてください",
                      "{field} needs an offset (e.g. +09:00)"),
    "future_date": ("「{field}」（{value}）は未来の日付です。今日（{today}）以前にしてください",
                    "{field} ({value}) is in the future; it must be {today} or earlier"),
    "future_instant": ("「{field}」（{value}）は未来の日時です",
                       "{field} ({value}) is in the future"),
    "before_previous": ("「{field}」（{value}）はこの記録の前回の操作（{previous}）より前です",
                        "{field} ({value}) is before this record's previous act ({previous})"),
    "unknown_field": ("「{field}」という項目はありません", "there is no field {field}"),
    "not_amendable": ("「{field}」は修正できません。修正できるのは {amendable} です",
                      "{field} cannot be amended; amendable: {amendable}"),
    "nothing_to_amend": ("修正する項目を1つ以上指定してください（{amendable}）",
                         "name at least one field to amend ({amendable})"),
    "unknown_reference": ("{kind}「{ref}」は登録されていません",
                          "unknown {kind} '{ref}' ({field})"),
    "office_not_in_ward": ("窓口「{office}」は{ward}にありません",
                           "office {office} is not in {ward}"),
    "district_not_in_ward": ("校区「{district}」は{ward}にありません",
                             "school district {district} is not in {ward}"),
    "lead_is_co": ("主務課（{department}）を関係課にすることはできません",
                   "the lead division {department} cannot also be a co-division"),
    "deferral_needs_year": ("保留にするときは「{field}」を指定してください",
                            "a deferral names {field}"),
    "budget_needs_amount": ("予算化したときは「{field}」を指定してください",
                            "a budgeted outcome names {field}"),
    "already_lead": ("この課はすでに主務課です", "that division already leads"),
    "invalid_cursor": ("カーソルが正しくありません。前のページの next_cursor を使ってください",
                       "the cursor is not one this list gave out"),
    "districts_need_ward": ("校区の間の均一性には「{field}」（区）を指定してください",
                            "uniformity between school districts names the {field}"),
    "ward_only_for_districts": ("「{field}」は between=school_district のときだけ指定できます",
                                "{field} applies only with between=school_district"),
    "range_reversed": ("期間の始め（{start}）が終わり（{end}）より後になっています",
                       "the period's start ({start}) is after its end ({end})"),
    "period_too_long": ("期間は{days}日以内で指定してください",
                        "the period may span at most {days} days"),
    "missing_version": ("フォームに版がありません。ページを読み込み直してください",
                        "the form carries no version; reload the page"),
    "wrong_unit": ("「{field}」は指標の単位（{unit}）に合いません: {min}から{max}までの"
                   "数値{whole}で指定してください",
                   "{field} does not fit the indicator's unit ({unit}): a number from {min}"
                   " to {max}{whole}"),
    "scope_needs_ward": ("この指標は区ごとに測ります。「区」を指定してください（校区は不可）",
                         "this indicator is measured per ward: name the ward (and no school"
                         " district)"),
    "scope_needs_district": ("この指標は校区ごとに測ります。「校区」を指定してください",
                             "this indicator is measured per school district: name it"),
    "scope_is_city": ("この指標は市全体で測ります。区や校区は指定できません",
                      "this indicator is city-wide: name neither ward nor school district"),
    "future_fiscal_year": ("「{field}」（{value}年度）はまだ始まっていません（今は{current}年度）",
                           "{field} {value} has not begun (it is fiscal year {current})"),
    "invalid": ("「{field}」の値が正しくありません", "{field} is not valid"),
}

TITLES: dict[str, tuple[str, str]] = {
    "invalid-command": ("入力内容に誤りがあります", "The request is not valid"),
    "validation-error": ("入力内容に誤りがあります", "Invalid input"),
    "unknown-reference": ("登録されていない項目です", "Unknown reference"),
    "office-not-in-ward": ("窓口が区に属していません", "Office does not belong to the ward"),
    "effective-at-in-future": ("未来の日時は指定できません", "effective_at is in the future"),
    "effective-at-before-previous": ("前回の記録より前の日時です",
                                     "effective_at is before the previous event"),
    "not-permitted": ("この操作の権限がありません", "Not permitted"),
    "not-found": ("見つかりません", "Not found"),
    "need-not-found": ("ニーズが見つかりません", "Need not found"),
    "proposal-not-found": ("事業提案が見つかりません", "Proposal not found"),
    "action-not-allowed": ("現在の状態ではこの操作はできません",
                           "Action not allowed in the current status"),
    "need-not-proposable": ("提案に含められないニーズです", "Need cannot be put in this proposal"),
    "merge-target-invalid": ("統合先が不適切です", "Cannot merge into that target"),
    "concurrent-change": ("他の人が先に更新しました", "The record was changed by someone else"),
    "version-mismatch": ("最新の内容ではありません", "The record has changed since you read it"),
    "domain-error": ("操作できません", "The request cannot be carried out"),
}


for _rule in errors.BUSINESS_RULES.values():  # a rule's own type, titled as invalid input
    TITLES.setdefault(_rule, TITLES["invalid-command"])


def pick(pair: tuple[str, str], lang: Lang) -> str:
    """The Japanese or English member of a pair."""
    return pair[0] if lang == "ja" else pair[1]


def label(table: Mapping[str, tuple[str, str]], key: str | None, lang: Lang) -> str:
    """A key's label in `lang` (the key itself when the table lacks it)."""
    if key is None:
        return ""
    pair = table.get(key)
    return pick(pair, lang) if pair else key


def field_label(field: str | None, lang: Lang) -> str:
    """A field's name for people (`location.lat` → 緯度; list indexes dropped)."""
    if not field:
        return pick(("入力", "input"), lang)
    parts = [p for p in field.split(".") if not p.isdigit()]
    key = ".".join(parts)
    if key in FIELDS:
        return pick(FIELDS[key], lang)
    return label(FIELDS, parts[-1] if parts else field, lang)


class Messages:
    """Renders errors for one city (ward, office and division names from its data)."""

    def __init__(self, city: CityData) -> None:
        self.city = city

    def name(self, kind: str, ref: str | None, lang: Lang) -> str:
        """The display name of a reference-data id (the id when unknown)."""
        if ref is None:
            return ""
        finder: Callable[[str], Any] | None = getattr(self.city, kind, None)
        item = finder(ref) if finder else None
        if item is None:
            return ref
        named = str(item.name_ja if lang == "ja" else item.name_en)
        return named + ("区" if kind == "ward" and lang == "ja" and not named.endswith("区")
                        else "")

    def title(self, code: str, lang: Lang) -> str:
        """The problem title of an error code."""
        return pick(TITLES.get(code, TITLES["domain-error"]), lang)

    def reason(self, field: str | None, reason: str, params: Mapping[str, Any],
               lang: Lang) -> str:
        """One field's message."""
        template = REASONS.get(reason, REASONS["invalid"])
        values = {k: self._value(k, x, lang) for k, x in params.items()}
        values["field"] = field_label(field, lang)
        try:
            return pick(template, lang).format(**values)
        except (KeyError, IndexError):
            return pick(REASONS["invalid"], lang).format(field=values["field"])

    def detail(self, exc: errors.DomainError, lang: Lang) -> str:
        """The sentence explaining a domain error."""
        p = exc.params
        if isinstance(exc, errors.InvalidCommand):
            return self.reason(exc.field, exc.reason, p, lang)
        if isinstance(exc, errors.NotPermitted):
            return self._not_permitted(p, lang)
        if isinstance(exc, errors.NotFound):
            kind = label(KINDS, p["kind"], lang)
            return (f"{kind}「{p['id']}」は見つかりません" if lang == "ja"
                    else f"{kind} {p['id']} not found")
        if isinstance(exc, errors.ActionNotAllowed):
            return self._not_allowed(p, lang)
        if isinstance(exc, errors.NeedNotProposable):
            return self._not_proposable(p, lang)
        if isinstance(exc, errors.MergeTargetInvalid):
            return self._bad_merge(p, lang)
        if isinstance(exc, errors.VersionMismatch):
            return self._stale(p, lang)
        if isinstance(exc, errors.ConcurrentChange):
            return pick(("他の人が同時に更新しました。最新の内容を読み直してからやり直してください",
                         "someone changed this record at the same moment; reload and retry"),
                        lang)
        return self.title(exc.code, lang)

    # ── pieces ────────────────────────────────────────────────────────────

    def _value(self, key: str, value: Any, lang: Lang) -> str:
        if key == "kind":
            return label(KINDS, str(value), lang)
        if key == "ward":
            return self.name("ward", str(value), lang)
        if key == "office":
            return self.name("office", str(value), lang)
        if key == "department":
            return self.name("department", str(value), lang)
        if key == "expected":
            return label(EXPECTED, str(value), lang)
        if key == "unit":
            return label(UNITS, str(value), lang)
        if key == "whole":
            return (("（整数）" if lang == "ja" else ", a whole number") if value == "yes"
                    else "")
        if key in ("choices", "amendable") and isinstance(value, Sequence):
            table = STATUSES if key == "choices" else FIELDS
            return "、".join(
                f"{label(table, str(x), lang)}（{x}）" if lang == "ja" and str(x) in table
                else str(x) for x in value) if lang == "ja" else ", ".join(map(str, value))
        return str(value)

    def _not_permitted(self, p: Mapping[str, Any], lang: Lang) -> str:
        who = [self._rule(rule, p, lang) for rule in p["allowed"]]
        action = label(ACTIONS, p["action"], lang)
        if lang == "ja":
            return f"「{action}」は{'または'.join(who)}（と管理者）のみが行えます"
        return f"only {' or '.join(who)} (and admins) may {action} here"

    def _rule(self, rule: str, p: Mapping[str, Any], lang: Lang) -> str:
        ward = self.name("ward", p.get("ward"), lang)
        office = self.name("office", p.get("office"), lang)
        lead = self.name("department", p.get("lead"), lang)
        texts: dict[str, tuple[str, str]] = {
            perm.WARD: (f"{ward}の職員・区長", f"staff or the mayor of {ward}"),
            perm.MAYOR: (f"{ward}の区長", f"the mayor of {ward}"),
            perm.OFFICE: (f"{office}の職員", f"staff of {office}"),
            perm.LEAD: (f"主務課（{lead}）の担当者", f"reviewers of the lead division ({lead})"),
            perm.CO: ("関係課の担当者", "reviewers of a co-division"),
            perm.ANY_REVIEWER: ("本庁各課の担当者", "division reviewers"),
            perm.NOT_MONITOR: ("モニタリング担当以外の職員", "any role but monitor"),
            perm.MONITORING: ("モニタリング担当", "monitors"),
        }
        return pick(texts.get(rule, (rule, rule)), lang)

    def _not_allowed(self, p: Mapping[str, Any], lang: Lang) -> str:
        kind = label(KINDS, p["kind"], lang)
        status = label(STATUSES, p["status"], lang)
        action = label(ACTIONS, p["action"], lang)
        allowed = [label(ACTIONS, a, lang) for a in p["allowed"]]
        if lang == "ja":
            now = (f"いまできる操作: {'、'.join(allowed)}" if allowed
                   else "いまできる操作はありません")
            return f"この{kind}は「{status}」のため「{action}」はできません。{now}"
        now = f"allowed now: {', '.join(allowed)}" if allowed else "nothing is allowed now"
        return f"this {kind} is {status}, so it cannot {action}; {now}"

    def _not_proposable(self, p: Mapping[str, Any], lang: Lang) -> str:
        if p["reason"] == "other_ward":
            ward = self.name("ward", p.get("ward"), lang)
            return (f"ニーズ {p['need']} は{ward}のものです。"
                    "提案に含められるのは同じ区のニーズだけです"
                    if lang == "ja" else f"need {p['need']} belongs to {ward}")
        status = label(STATUSES, p.get("status"), lang)
        return (f"ニーズ {p['need']} は「{status}」です。"
                "提案に含められるのは受付済みのニーズだけです"
                if lang == "ja" else f"need {p['need']} is {status}, not triaged")

    def _bad_merge(self, p: Mapping[str, Any], lang: Lang) -> str:
        kind = label(KINDS, p["kind"], lang)
        if p["reason"] == "self":
            return (f"{kind}を自分自身に統合することはできません" if lang == "ja"
                    else f"a {kind} cannot be merged into itself")
        if p["reason"] == "other_ward":
            ward = self.name("ward", p.get("ward"), lang)
            return (f"統合先の{kind}は{ward}のものです" if lang == "ja"
                    else f"the target {kind} belongs to {ward}")
        status = label(STATUSES, p.get("status"), lang)
        return (f"統合先の{kind}は「{status}」のため統合できません" if lang == "ja"
                else f"the target {kind} is {status} and cannot take a merge")

    def _stale(self, p: Mapping[str, Any], lang: Lang) -> str:
        kind = label(KINDS, p["kind"], lang)
        expected, current = p["expected"], p["current"]
        if expected > current:
            return (f"指定された版 {expected} はまだありません（この{kind}の最新は版 {current}）。"
                    "読み直してください" if lang == "ja"
                    else f"version {expected} does not exist yet (this {kind} is at"
                         f" version {current}); reload it")
        return (f"この{kind}は版 {expected} の後に更新されています（最新は版 {current}）。"
                "読み直してからやり直してください" if lang == "ja"
                else f"this {kind} changed after version {expected} (now {current});"
                     " reload and retry")
