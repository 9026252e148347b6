"""Streaming by claim (``iter_units``): every segment reaches some part, each claim
comes once with its own context, and nothing is reordered."""
from __future__ import annotations

from collections import Counter

import pytest

from conftest import CORPUS, FIXTURES, corpus_rows
from x12engine import parse
from x12engine.parser import iter_units


def _indices(loop) -> list[int]:
    return [tok[1] for tok in loop.segments()]


def _check(source) -> int:
    whole = [t for _, _, t in parse(source).transactions()]
    parts = list(iter_units(source))
    by_set: dict[str, list] = {}
    for ctx in parts:
        by_set.setdefault((ctx.interchange.control_number, ctx.transaction.control_number, ctx.transaction.header[1]), []).append(ctx)
    assert len(by_set) == len(whole)
    checked = 0
    for txn, (key, ctxs) in zip(whole, by_set.items()):
        unit = txn.table.guide.unit if txn.table is not None else None
        every = _indices(txn.body)
        seen: set[int] = set()
        for ctx in ctxs:
            idx = _indices(ctx.transaction.body)
            assert idx == sorted(idx), "a part reorders segments"
            assert set(idx) <= set(every)
            seen |= set(idx)
        missing = set(every) - seen
        if txn.trailer is not None and ctxs and all(c.part in ("unit", "other") for c in ctxs):
            missing.discard(txn.trailer[1])  # with no rest part, only SE is left out
        assert not missing, "a segment reached no part"
        if unit is None:
            assert [c.part for c in ctxs] == [None]
            continue
        # a part that is not a claim carries no claim
        assert all(not list(c.transaction.body.loops(unit)) for c in ctxs if c.part != "unit")
        claims = list(txn.body.loops(unit))
        units = [c for c in ctxs if c.part == "unit"]
        assert len(units) == len(claims)
        assert [c.index for c in units] == list(range(1, len(units) + 1))
        for ctx, claim in zip(units, claims):
            got = list(ctx.transaction.body.loops(unit))
            assert len(got) == 1, "a unit carries exactly one claim"
            assert _indices(got[0]) == _indices(claim)
            # its context: the loops above the claim in the whole tree, same ids in the same order
            path = _path_to(txn.body, claim)
            assert [l.id for l in _path_to(ctx.transaction.body, got[0])] == [l.id for l in path]
        assert sum(1 for c in ctxs if c.part == "rest") <= 1
        assert all(c.part in ("unit", "other") for c in ctxs[:-1])
        whole_f = Counter((f.code, f.location.segment_index) for f in txn.findings)
        part_f = Counter((f.code, f.location.segment_index) for c in ctxs for f in c.transaction.findings)
        assert part_f == whole_f
        checked += len(claims)
    return checked


def _path_to(root, target) -> list:
    def walk(loop, path):
        for c in loop.children:
            if c is target:
                return path
            if hasattr(c, "children"):
                found = walk(c, path + [c])
                if found is not None:
                    return found
        return None

    return walk(root, [root]) or []


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.x12")))
def test_fixture_units(name):
    _check(FIXTURES / name)


def test_claims_are_cut_and_whole_sets_pass_through():
    n = _check(FIXTURES / "837p-claims.x12")
    assert n >= 2
    parts = list(iter_units(FIXTURES / "835-payment.x12"))
    assert [p.part for p in parts][-1] == "rest"  # PLB and totals after the claim payments
    rest = parts[-1].transaction
    assert not list(rest.body.loops("2100"))
    assert rest.trailer is not None and rest.trailer[0][0] == "SE"


def _repeat_subscribers(times: int) -> str:
    """The 837P fixture with its subscriber hierarchies repeated (fresh HL numbers)."""
    segs = (FIXTURES / "837p-claims.x12").read_text().replace("\n", "").split("~")
    st = next(i for i, x in enumerate(segs) if x.startswith("ST*"))
    se = next(i for i, x in enumerate(segs) if x.startswith("SE*"))
    first = next(i for i, x in enumerate(segs) if x.startswith("HL*") and x.split("*")[3] == "22")
    block = segs[first:se]
    out = segs[:first]
    hl = first_hl = int(segs[first].split("*")[1])
    for _ in range(times):
        ids: dict[str, str] = {"1": "1"}
        for x in block:
            if x.startswith("HL*"):
                f = x.split("*")
                ids[f[1]] = str(hl)
                f[1], f[2] = str(hl), ids.get(f[2], f[2])
                hl += 1
                x = "*".join(f)
            out.append(x)
    assert hl > first_hl
    out.append(f"SE*{len(out) - st + 1}*0001")
    out.extend(segs[se + 1:])
    return "~".join(out)


def test_closed_claims_and_subscribers_leave_the_tree():
    """Each claim comes with the same context however many came before it: closed
    claims and subscribers are cut out of the live tree (memory stays bounded)."""
    text = _repeat_subscribers(40).encode()
    units = [c for c in iter_units(text) if c.part == "unit"]
    per_block = len(units) // 40
    assert per_block >= 2 and len(units) == 40 * per_block
    sizes = [sum(1 for _ in c.transaction.segments()) for c in units]
    assert sizes[per_block:] == sizes[:per_block] * 39
    _check(text)


@pytest.mark.parametrize(
    "row", [r for r in corpus_rows() if r["transaction_set"] in ("837", "835") and r["status"] == "valid-looking"],
    ids=lambda r: r["path"],
)
def test_corpus_units(row):
    path = CORPUS / row["path"]
    if not path.is_file():
        pytest.skip("corpus file missing")
    _check(path)


def test_models_by_claim_carry_their_part():
    entries = list(__import__("x12engine").iter_models(FIXTURES / "835-payment.x12", by_claim=True))
    assert [e["part"]["kind"] for e in entries] == ["unit", "unit", "rest"]
    assert [e["part"]["index"] for e in entries][:2] == [1, 2]
    assert all(e["x12"]["transaction"]["control_number"] == "0001" for e in entries)
    whole = list(__import__("x12engine").iter_models(FIXTURES / "278-request.x12", by_claim=True))
    assert all("part" not in e for e in whole) and whole[0]["model"] is not None


def test_claims_streamed_alone_skip_set_total_checks():
    """An 835 claim payment on its own cannot balance against BPR02: no false warning."""
    import x12engine

    whole = x12engine.to_models(FIXTURES / "835-payment.x12")["transactions"][0]
    assert not [f for f in whole["findings"] if f["code"] == "payment_out_of_balance"]
    parts = list(x12engine.iter_models(FIXTURES / "835-payment.x12", by_claim=True))
    assert len(parts) >= 2
    assert not [f for e in parts for f in e["findings"] if f["code"] == "payment_out_of_balance"]
