"""Rotation (drawing inspectors): "last time" is any inspection of the entity known to the hub."""

from datetime import date

from planning.rotation import Inspection, previous_inspectors

U = "91370202MA3C4XL68B"


def seen(department: str, on: str, *ids: str, uscc: str = U) -> Inspection:
    return Inspection(uscc, department, date.fromisoformat(on), frozenset(ids))


def test_previous_inspectors_are_those_of_the_latest_inspection_per_department():
    found = previous_inspectors(
        [
            seen("market", "2025-03-01", "M1"),
            seen("market", "2026-02-01", "M2", "M3"),
            seen("fire", "2024-01-01", "F1"),
        ]
    )
    assert found == {U: frozenset({"M2", "M3", "F1"})}


def test_a_joint_visit_after_a_departments_own_record_replaces_it():
    own = seen("culture", "2025-06-01", "C1")
    joint = seen("culture", "2026-11-30", "C7")  # the hub's joint visit, substitute included
    assert previous_inspectors([own, joint]) == {U: frozenset({"C7"})}
    assert previous_inspectors([joint, own]) == {U: frozenset({"C7"})}


def test_inspections_on_the_same_latest_day_all_count():
    found = previous_inspectors(
        [seen("fire", "2026-05-05", "F1"), seen("fire", "2026-05-05", "F2")]
    )
    assert found == {U: frozenset({"F1", "F2"})}


def test_each_entity_keeps_its_own_history():
    other = "91370202MA3C4XL69X"
    found = previous_inspectors(
        [seen("fire", "2026-01-01", "F1"), seen("fire", "2026-01-02", "F2", uscc=other)]
    )
    assert found == {U: frozenset({"F1"}), other: frozenset({"F2"})}
