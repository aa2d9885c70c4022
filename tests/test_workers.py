"""offline.workers: how `tasks.py plan` and `tasks.py policy` share the stacks out between the cores."""

import os

import pytest

from offline.workers import forked_map


def where(item: str) -> tuple[str, int]:
    return item, os.getpid()


def refuse(item: str) -> str:
    if item == "prod":
        raise ValueError(f"{item} refused")
    return item


def test_the_answers_come_back_in_the_order_of_the_items_from_processes_of_their_own():
    answers = forked_map(where, ["dev", "prod", "staging", "eu"], workers=2)
    assert [item for item, _ in answers] == ["dev", "prod", "staging", "eu"]
    pids = {item: pid for item, pid in answers}
    assert pids["dev"] == pids["staging"] == os.getpid()  # the first share runs here
    assert pids["prod"] == pids["eu"] != os.getpid()


def test_an_error_in_a_worker_is_raised_here_naming_its_items_with_the_workers_traceback():
    with pytest.raises(RuntimeError, match=r"the worker for prod failed: ValueError: prod refused") as raised:
        forked_map(refuse, ["dev", "prod"], workers=2)
    assert 'raise ValueError(f"{item} refused")' in str(raised.value)


def test_one_worker_runs_everything_here():
    assert {pid for _, pid in forked_map(where, ["dev", "prod"], workers=1)} == {os.getpid()}
