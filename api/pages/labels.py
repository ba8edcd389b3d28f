"""What the pages call things, in Japanese and English: statuses, actions, sources, roles.

Codes stay in the data and the URLs; people read these labels. Reference data
(wards, offices, divisions) carries its own names in the city's data file.
"""

from __future__ import annotations

#: code → (Japanese, English)
STATUSES: dict[str, tuple[str, str]] = {
    "recorded": ("記録済み", "Recorded"), "triaged": ("受付済み", "Triaged"),
    "proposed": ("提案中", "In a proposal"),
    "resolved_locally": ("区で対応済み", "Resolved locally"),
    "declined": ("対応見送り", "Declined"), "merged": ("統合済み", "Merged"),
    "closed": ("完了", "Closed"), "draft": ("下書き", "Draft"),
    "submitted": ("提出済み", "Submitted"), "acknowledged": ("受理", "Acknowledged"),
    "info_requested": ("照会中", "Information requested"),
    "under_review": ("検討中", "Under review"), "accepted": ("採択", "Accepted"),
    "rejected": ("不採択", "Rejected"), "deferred": ("保留", "Deferred"),
    "budget_requested": ("予算要求中", "Budget requested"), "budgeted": ("予算化", "Budgeted"),
    "not_budgeted": ("予算化されず", "Not budgeted"), "in_progress": ("実施中", "In progress"),
    "completed": ("完了", "Completed"), "withdrawn": ("取り下げ", "Withdrawn"),
}

ACTIONS: dict[str, tuple[str, str]] = {
    "triage": ("受け付ける", "Triage"),
    "resolve-locally": ("区で対応済みにする", "Resolve locally"),
    "decline": ("対応を見送る", "Decline"), "merge": ("統合する", "Merge"),
    "feedback": ("フィードバックを記録する", "Record feedback"), "amend": ("修正する", "Amend"),
    "submit": ("提出する（区長）", "Submit (ward mayor)"),
    "acknowledge": ("受理する", "Acknowledge"),
    "request-info": ("区に照会する", "Ask the ward"), "provide-info": ("照会に回答する", "Answer"),
    "start-review": ("検討を始める", "Start review"), "decide": ("決定する", "Decide"),
    "request-budget": ("予算を要求する", "Request budget"),
    "record-budget": ("予算の結果を記録する", "Record budget outcome"),
    "start-implementation": ("実施を始める", "Start implementation"),
    "complete": ("完了にする", "Complete"), "withdraw": ("取り下げる", "Withdraw"),
    "transfer": ("主務課を移管する", "Transfer lead"), "evaluate": ("評価を記録する", "Evaluate"),
    "comment": ("意見を書く", "Comment"), "notice": ("事前の情報提供", "Advance notice"),
}

SOURCES: dict[str, tuple[str, str]] = {
    "council_meeting": ("校区自治協議会", "School-district council"),
    "neighbourhood_association": ("町内自治会", "Neighbourhood association"),
    "community_event": ("地域の催し", "Community event"), "counter": ("窓口", "Counter"),
    "outreach": ("訪問・出前", "Outreach"), "survey": ("調査", "Survey"),
    "phone": ("電話", "Phone"), "other": ("その他", "Other"),
}

URGENCIES: dict[str, tuple[str, str]] = {
    "low": ("低", "Low"), "normal": ("通常", "Normal"), "high": ("高", "High"),
    "urgent": ("緊急", "Urgent"),
}

CHANNELS: dict[str, tuple[str, str]] = {
    "council_meeting": ("自治協議会で", "At a council meeting"),
    "notice_board": ("掲示板", "Notice board"), "letter": ("文書", "Letter"),
    "web": ("ウェブ", "Web"), "visit": ("訪問", "Visit"), "other": ("その他", "Other"),
}

DECISIONS: dict[str, tuple[str, str]] = {
    "accepted": ("採択", "Accept"), "rejected": ("不採択", "Reject"), "deferred": ("保留", "Defer"),
}

BUDGET_OUTCOMES: dict[str, tuple[str, str]] = {
    "budgeted": ("予算化", "Budgeted"), "not_budgeted": ("予算化されず", "Not budgeted"),
}

ROLES: dict[str, tuple[str, str]] = {
    "exchange_room_staff": ("交流室職員", "Exchange-room staff"),
    "ward_staff": ("区役所職員", "Ward staff"), "ward_mayor": ("区長", "Ward mayor"),
    "department_reviewer": ("本庁主務課", "Division reviewer"),
    "monitor": ("分析担当", "Monitor"), "admin": ("システム管理者", "Administrator"),
}

CLOCKS: dict[str, tuple[str, str]] = {
    "acknowledgement": ("受理", "Acknowledgement"), "decision": ("決定", "Decision"),
    "feedback": ("フィードバック", "Feedback"), "end_to_end": ("全体", "End to end"),
}

CLOCK_STATES: dict[str, tuple[str, str]] = {
    "not_started": ("未開始", "Not started"), "running": ("進行中", "Running"),
    "paused": ("一時停止", "Paused"), "stopped": ("終了", "Stopped"),
    "cancelled": ("取消", "Cancelled"),
}

EVENTS: dict[str, tuple[str, str]] = {
    "NeedRecorded": ("記録", "Recorded"), "NeedAmended": ("修正", "Amended"),
    "NeedTriaged": ("受付", "Triaged"), "NeedResolvedLocally": ("区で対応", "Resolved locally"),
    "NeedDeclined": ("見送り", "Declined"), "NeedMerged": ("統合", "Merged"),
    "NeedFeedbackRecorded": ("フィードバック", "Feedback"),
    "NeedProposed": ("事業提案に追加", "Put in a proposal"),
    "NeedMovedToProposal": ("統合先の提案へ移動", "Moved to the merged proposal"),
    "NeedReturnedToTriage": ("受付済みに戻る", "Returned to triage"),
    "NeedClosedWithProposal": ("提案とともに完了", "Closed with its proposal"),
    "NeedPersonalDataErased": ("個人情報を消去", "Personal data erased"),
    "ProposalDrafted": ("下書き作成", "Drafted"), "ProposalAmended": ("修正", "Amended"),
    "ProposalSubmitted": ("提出", "Submitted"), "ProposalAcknowledged": ("受理", "Acknowledged"),
    "ProposalInfoRequested": ("照会", "Info requested"),
    "ProposalInfoProvided": ("回答", "Info provided"),
    "ProposalReviewStarted": ("検討開始", "Review started"), "ProposalDecided": ("決定", "Decided"),
    "ProposalBudgetRequested": ("予算要求", "Budget requested"),
    "ProposalBudgetRecorded": ("予算の結果", "Budget outcome"),
    "ProposalImplementationStarted": ("実施開始", "Implementation started"),
    "ProposalCompleted": ("完了", "Completed"), "ProposalWithdrawn": ("取り下げ", "Withdrawn"),
    "ProposalMerged": ("統合", "Merged"),
    "ProposalAbsorbed": ("他の提案を統合", "Absorbed another"),
    "ProposalTransferred": ("主務課の移管", "Lead transferred"),
    "ProposalFeedbackRecorded": ("フィードバック", "Feedback"),
    "ProposalEvaluated": ("評価", "Evaluated"), "ProposalCommented": ("意見", "Comment"),
    "ProposalNoticeSent": ("事前の情報提供", "Notice"),
}


FIGURES: dict[str, tuple[str, str]] = {
    "median": ("中央値", "median"), "p90": ("90%値", "90th percentile"),
    "within_target": ("期限内率", "share on time"),
}

RATES: dict[str, tuple[str, str]] = {
    "acceptance_rate": ("採択率", "Acceptance rate"),
    "feedback_closure_rate": ("フィードバック完了率", "Feedback closure rate"),
    "transfers_per_proposal": ("1件あたりの移管", "Transfers per proposal"),
    "mean_satisfaction": ("平均満足度", "Mean satisfaction"),
}


def metric_label(metric: str, lang: str) -> str:
    """`decision_median` → 決定 中央値 (or "Decision median")."""
    if metric in RATES:
        return label(RATES, metric, lang)
    for figure in FIGURES:
        clock = metric.removesuffix(f"_{figure}")
        if clock != metric and clock in CLOCKS:
            return f"{label(CLOCKS, clock, lang)} {label(FIGURES, figure, lang)}"
    return metric


def label(table: dict[str, tuple[str, str]], code: str | None, lang: str) -> str:
    """The label of `code` in `lang` (the code itself when the table lacks it)."""
    if code is None:
        return ""
    names = table.get(code)
    if names is None:
        return code
    return names[0] if lang == "ja" else names[1]
