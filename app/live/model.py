"""A live room: a presenter's session that followers watch on /live/{code}, and the poll it may be asking."""
import secrets
from dataclasses import asdict, dataclass, field

# Join codes: six characters people read off a projector and type on a phone, without look-alikes (no 0/O, 1/I/L).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
# A room ends this long after the presenter's last change (or at "Stop presenting"); an ended room stays readable
# (its last state, and a copy of it) for ENDED_KEPT seconds more.
ENDED_KEPT = 3600.0


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def spaced(code: str) -> str:
    """A code as read aloud and shown: ABC 123."""
    return f"{code[:3]} {code[3:]}"


def normal_code(text: str) -> str | None:
    """A typed code, upper-cased and without spaces or dashes; None when it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper()
    return code if len(code) == CODE_LENGTH and all(c in ALPHABET for c in code) else None


@dataclass
class Poll:
    """A question about the coming step. `kind`: "direction" (will a weight go up or down), "largest" (which node of
    a layer gets the largest |δ|) or "number" (a quantity of the step, checked as the worksheet checks it).
    `target` locates it (the worksheet's Ask fields). `result` is set by Reveal."""

    id: int
    kind: str
    question: str
    choices: list[str]
    target: dict
    step: int  # the presenter's step when it was asked: the poll is about step + 1
    result: dict | None = None  # once revealed, or {"cancelled": reason}
    folded: bool = False  # a revealed result folds away once the room moves on from its step (polls.due_to_fold)
    # The state it was asked in (polls.fingerprint), and the answer read from that state's proposal; neither is
    # ever sent to followers.
    fingerprint: str = ""
    key: dict | None = None

    @property
    def open(self) -> bool:
        return self.result is None


@dataclass
class Room:
    code: str
    sid: str  # the presenter's session: the only one that drives the room
    started: float
    expires: float
    poll: Poll | None = None
    polls_asked: int = 0
    ended: bool = False
    snapshot: str | None = None  # once ended: a snapshot of where it ended, for "Take a copy"
    # Counts the times the followers' frames started anew (a whole frame; a follower's page drawn where the
    # frames' maker could not note it): a `patch` is made only from the frames of the epoch it belongs to
    # (app/web/live_publisher.py), so that it applies to what every follower holds, whichever worker made it.
    epoch: int = 0
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Room":
        poll = data.get("poll")
        return cls(**{**data, "poll": Poll(**poll) if poll else None})
