"""Domain errors, each named for the business rule it enforces.

The API maps each class to an RFC 9457 problem; the domain knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """A command refused by a business rule; nothing was changed."""

    #: a stable slug, used as the last part of the problem `type` URI
    slug = "domain-error"
    #: a short title in Japanese and English, shown to the user
    title = "操作できません / The request cannot be carried out"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidCommand(DomainError):
    """The command's content breaks a rule (a bad reference, a missing reason)."""

    slug = "invalid-command"
    title = "入力内容に誤りがあります / The request is not valid"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class UnknownReference(InvalidCommand):
    """A ward, office, department, … id not in the city's reference data."""

    slug = "unknown-reference"
    title = "登録されていない項目です / Unknown reference"

    def __init__(self, kind: str, ref_id: str, field: str | None = None) -> None:
        super().__init__(f"{kind} '{ref_id}' は登録されていません (unknown {kind})", field)
        self.kind = kind
        self.ref_id = ref_id


class OfficeNotInWard(InvalidCommand):
    """The office named does not belong to the ward named."""

    slug = "office-not-in-ward"
    title = "窓口が区に属していません / Office does not belong to the ward"


class EffectiveAtInFuture(InvalidCommand):
    """`effective_at` lies after now: work cannot be recorded before it happens."""

    slug = "effective-at-in-future"
    title = "未来の日時は指定できません / effective_at is in the future"


class EffectiveAtBeforePrevious(InvalidCommand):
    """`effective_at` lies before the aggregate's previous act."""

    slug = "effective-at-before-previous"
    title = "前回の記録より前の日時です / effective_at is before the previous event"


class NotPermitted(DomainError):
    """The actor's role or scope does not allow the action."""

    slug = "not-permitted"
    title = "この操作の権限がありません / Not permitted"


class NotFound(DomainError):
    """The need or proposal does not exist."""

    slug = "not-found"
    title = "見つかりません / Not found"


class NeedNotFound(NotFound):
    """No need has this id."""

    slug = "need-not-found"


class ProposalNotFound(NotFound):
    """No proposal has this id."""

    slug = "proposal-not-found"


class ActionNotAllowed(DomainError):
    """The action is not allowed in the aggregate's current status."""

    slug = "action-not-allowed"
    title = "現在の状態ではこの操作はできません / Action not allowed in the current status"

    def __init__(
        self, detail: str, current_status: str, allowed_actions: Sequence[str]
    ) -> None:
        super().__init__(detail)
        self.current_status = current_status
        self.allowed_actions = list(allowed_actions)


class NeedNotProposable(DomainError):
    """A need named in a proposal is not `triaged`, or belongs to another ward."""

    slug = "need-not-proposable"
    title = "提案に含められないニーズです / Need cannot be put in this proposal"


class MergeTargetInvalid(DomainError):
    """The need or proposal to merge into cannot take the merge."""

    slug = "merge-target-invalid"
    title = "統合先が不適切です / Cannot merge into that target"


class ConcurrentChange(DomainError):
    """Someone else changed the record between our read and our write."""

    slug = "concurrent-change"
    title = "他の人が先に更新しました / The record was changed by someone else"


class VersionMismatch(DomainError):
    """The client's `If-Match` version is not the current one."""

    slug = "version-mismatch"
    title = "最新の内容ではありません / The record has changed since you read it"
