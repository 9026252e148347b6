"""Transaction bodies → a complete interchange: ISA/GS/ST … SE/GE/IEA.

Counts and control numbers are always computed here, never taken from the
user's JSON: SE01 counts the set's segments, GE01 the sets, IEA01 the groups,
and ISA13/GS06/ST02 come from the settings' starting numbers.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from .errors import BuildError, Location
from .tokenizer import Delimiters
from .writer import write_segments


@dataclass(slots=True)
class EnvelopeSettings:
    """Envelope choices for a build. ``None`` means "not given": the value then comes
    from the model document being rebuilt, else from the map (e.g. GS03 from
    ``trading_partner_id``), else from :data:`DEFAULTS`."""

    sender_id: str | None = None  # ISA06
    sender_qualifier: str | None = None  # ISA05
    receiver_id: str | None = None  # ISA08
    receiver_qualifier: str | None = None  # ISA07
    group_sender: str | None = None  # GS02
    group_receiver: str | None = None  # GS03
    usage: str | None = None  # ISA15: T test, P production, I information
    interchange_control_number: int | None = None
    group_control_number: int | None = None
    transaction_control_number: int | None = None
    acknowledgment_requested: str | None = None  # ISA14
    now: _dt.datetime | None = None
    delimiters: Delimiters | None = None
    newline: bool = True

    def merged(self, fallback: "EnvelopeSettings") -> "EnvelopeSettings":
        """These settings, with every value not given taken from ``fallback``."""
        out = EnvelopeSettings(newline=self.newline)
        for name in self.__slots__:
            if name != "newline":
                mine = getattr(self, name)
                setattr(out, name, mine if mine is not None else getattr(fallback, name))
        return out

    def check(self) -> None:
        where = Location(source="envelope settings")
        if self.usage not in (None, "T", "P", "I"):
            raise BuildError("usage indicator must be T (test), P (production) or I (information)", where)
        for name in ("interchange_control_number", "group_control_number", "transaction_control_number"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 1 or v > 999_999_999):
                raise BuildError(f"{name} must be an integer from 1 to 999999999", where)
        for name in ("sender_id", "receiver_id", "group_sender", "group_receiver"):
            v = getattr(self, name)
            if v is not None and not 0 < len(v) <= 15:
                raise BuildError(f"{name} must have 1 to 15 characters (ISA06/ISA08/GS02/GS03)", where)
        if self.delimiters is not None:
            self.delimiters.check(where)


DEFAULTS = EnvelopeSettings(
    sender_id="X12ENGINE", sender_qualifier="ZZ", receiver_id="RECEIVER", receiver_qualifier="ZZ", usage="T",
    interchange_control_number=1, group_control_number=1, transaction_control_number=1,
    acknowledgment_requested="0", delimiters=Delimiters(),
)


@dataclass(slots=True)
class SetBody:
    """One transaction set ready to wrap: its body segments (elements as component lists)."""

    transaction: str  # ST01
    guide: str  # ST03 / GS08
    group: str  # GS01
    segments: list[list]
    envelope: dict[str, str] = field(default_factory=dict)  # GS02/GS03/ISA06/ISA08 the map asked for
    st03: bool = True  # the guide uses ST03 (the 835's does not)


def _join(seg: list, d: Delimiters) -> list[str]:
    out = [seg[0]]
    for el in seg[1:]:
        if isinstance(el, list):
            out.append(d.component.join(el))
        else:
            out.append(str(el))
    return out


def assemble(sets: list[SetBody], settings: EnvelopeSettings | None = None) -> str:
    """One interchange holding every set, one functional group per (GS01, version, sender, receiver)."""
    given = settings or EnvelopeSettings()
    given.check()
    if not sets:
        raise BuildError("nothing to build: no transaction sets", Location(source="envelope"))
    first_env = sets[0].envelope
    from_map = EnvelopeSettings(sender_id=first_env.get("ISA06") or first_env.get("GS02"),
                                receiver_id=first_env.get("ISA08") or first_env.get("GS03"))
    s = given.merged(from_map).merged(DEFAULTS)
    s.check()
    now = s.now or _dt.datetime.now()
    d = s.delimiters
    sender, receiver = s.sender_id, s.receiver_id
    icn = f"{s.interchange_control_number:09d}"
    isa = ["ISA", "00", "", "00", "", s.sender_qualifier, sender, s.receiver_qualifier, receiver,
           now.strftime("%y%m%d"), now.strftime("%H%M"), d.repetition or "U", "00501", icn,
           s.acknowledgment_requested, s.usage, d.component]
    segments: list[list] = [isa]
    groups: dict[tuple, list[SetBody]] = {}
    for body in sets:
        gs02 = body.envelope.get("GS02") or s.group_sender or sender
        gs03 = body.envelope.get("GS03") or s.group_receiver or receiver
        groups.setdefault((body.group, body.guide, gs02, gs03), []).append(body)
    gcn = s.group_control_number
    tcn = s.transaction_control_number
    for (gs01, guide, gs02, gs03), bodies in groups.items():
        for name, value in (("GS02", gs02), ("GS03", gs03)):
            if len(value) > 15:
                raise BuildError(f"{name} (application sender/receiver code) is at most 15 characters", Location(source="envelope"))
        segments.append(["GS", gs01, gs02, gs03, now.strftime("%Y%m%d"), now.strftime("%H%M"), str(gcn), "X", guide])
        for body in bodies:
            st02 = f"{tcn:04d}"
            segments.append(["ST", body.transaction, st02, body.guide] if body.st03 else ["ST", body.transaction, st02])
            segments.extend(body.segments)
            segments.append(["SE", str(len(body.segments) + 2), st02])
            tcn += 1
        segments.append(["GE", str(len(bodies)), str(gcn)])
        gcn += 1
    segments.append(["IEA", str(len(groups)), icn])
    # values were checked against these delimiters by the builder; the writer checks the rest
    return write_segments([_join(seg, d) for seg in segments], d, newline=s.newline)
