"""Values at their edges, without storage: how errors show them, datetimes near the ends of
the calendar, and the bounds of JSON payloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from agentkeel.domain.errors import InvalidValue, NotFound, shown
from agentkeel.domain.workspace import Project, Repository


def nested(depth: int, kind: type[list[object]] | type[dict[str, object]] = list) -> object:
    """A list (or dict) nested `depth` deep around 0, built without recursion."""
    value: object = 0
    for _ in range(depth):
        value = [value] if kind is list else {"k": value}
    return value


# -- how errors show values ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        nested(1_000),
        nested(1_000, dict),
        nested(100_000),
        10**5_000,  # over Python's int-to-str limit of 4,300 digits
        -(10**100_000),
        [10**5_000],
    ],
    ids=["list-1000", "dict-1000", "list-100000", "int-5000", "int-neg-100000", "int-in-list"],
)
def test_showing_a_value_never_raises_and_stays_short(value: object) -> None:
    text = shown(value)
    assert len(text) < 100
    assert str(NotFound("project", value)).startswith("project not found: id=")


class Leaf:
    """A value that counts how often it is shown."""

    shown = 0

    def __repr__(self) -> str:
        Leaf.shown += 1
        return "leaf"


def test_only_what_is_shown_is_formatted() -> None:
    """Twenty levels of [a, a] repeat one leaf a million times (sixty would be 2**60 times,
    and a full repr would never end): only the few shown are formatted."""
    value: object = Leaf()
    for _ in range(20):
        value = [value, value]
    assert shown(value).startswith("[[[[")
    assert Leaf.shown < 60


def test_huge_integers_are_described_not_written_out() -> None:
    assert shown(10**5_000) == "<int of about 5001 digits>"
    assert shown(-(10**100)) == "<int of about 101 digits>"
    assert shown(2**63) == "9223372036854775808"


def test_a_cut_value_says_its_own_length() -> None:
    with pytest.raises(InvalidValue) as caught:
        Project(name="p", id="a" * 65)
    assert str(caught.value).endswith("… (65 chars))")
    assert shown("é" * 100).endswith("… (100 chars)")
    assert shown(list(range(1000))).endswith("… (1000 items)")
    assert shown({str(n): n for n in range(100)}).endswith("… (100 items)")
    assert shown(b"x" * 100).endswith("… (100 bytes)")


def test_short_values_are_shown_whole_as_repr() -> None:
    for value in ["it's", {"a": [1, 2.5, None, True]}, (1,), frozenset({1}), set(), b"\x00"]:
        assert shown(value) == repr(value)


# -- datetimes near the ends of the calendar -------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-1))),
    ],
    ids=["year-1-east", "year-9999-west"],
)
def test_a_datetime_with_no_utc_equivalent_is_refused(moment: datetime) -> None:
    with pytest.raises(InvalidValue) as caught:
        Project(name="p", archived_at=moment)
    assert str(caught.value).startswith(
        "project.archived_at is out of range when converted to UTC (got datetime.datetime("
    )
    repository = Repository(project_id="p", name="r", path="/r")
    with pytest.raises(InvalidValue, match=r"repository\.created_at is out of range"):
        repository.created_at = moment


def test_the_ends_of_the_calendar_in_utc_are_kept() -> None:
    for moment in [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]:
        assert Project(name="p", archived_at=moment).archived_at == moment
