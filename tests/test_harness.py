"""The mock harness itself: preview runs, secure config and what it records."""

import asyncio
import os
import signal
import threading
import time

import pulumi
import pulumi_aws as aws
import pytest
from helpers import evaluate_fixture

from offline.harness import UNKNOWN, Secret, evaluate, stack_config


def test_a_preview_registers_the_same_resources_with_computed_values_unknown(prodlike):
    preview = evaluate_fixture("prodlike", preview=True)
    assert preview.error is None
    assert sorted((r.type, r.name) for r in preview.resources) == sorted((r.type, r.name) for r in prodlike.resources)
    flow_log = preview.one("aws:ec2/flowLog:FlowLog").inputs
    assert flow_log["logDestination"] is UNKNOWN  # the ARN of a bucket that does not exist yet
    assert flow_log["trafficType"] == "ALL"


def test_secure_values_become_placeholders_and_are_marked_secret(tmp_path):
    (tmp_path / "Pulumi.demo.yaml").write_text(
        "config:\n  aws:region: eu-west-1\n  ecs-platform:network:\n    cidr: 10.0.0.0/16\n"
        "    token:\n      secure: v1:AAAAencrypted\n"
    )
    config = stack_config("demo", root=tmp_path)
    assert config["ecs-platform:network"]["token"] == "placeholder-for-ecs-platform:network.token"
    assert isinstance(config["ecs-platform:network"]["token"], Secret)


def test_resources_record_parent_and_provider(small):
    network = small.one("ecs-platform:network:Network")
    assert {r.name for r in small.children(network)} >= {"network-vpc", "network-flow-logs"}
    role_policy = small.one("aws:iam/rolePolicy:RolePolicy", "network-flow-logs")
    assert role_policy.parent == small.one("aws:iam/role:Role", "network-flow-logs").urn


def test_components_carry_the_outputs_they_register(small):
    network = small.one("ecs-platform:network:Network")
    assert network.outputs["vpcId"] == small.outputs["vpcId"]
    assert network.outputs["isolatedSubnetIds"] == small.outputs["isolatedSubnetIds"]


def test_a_run_leaves_the_threads_event_loop_as_it_was_even_when_a_mock_fails():
    """The harness answers the program's engine calls in its own thread, on an engine loop of their own
    (engine.py, `_InOrder`): afterwards the thread has the loop it had, and none running."""
    loop = asyncio.get_event_loop_policy().get_event_loop()

    def program() -> None:
        aws.get_caller_identity()
        pulumi.runtime.invoke("test:index:unanswered", {})

    with pytest.raises(NotImplementedError, match="does not answer the invoke test:index:unanswered"):
        evaluate("demo", {"aws:region": "eu-west-1"}, program=program)
    assert asyncio.get_event_loop_policy().get_event_loop() is loop
    assert asyncio._get_running_loop() is None
    assert evaluate("demo", {"aws:region": "eu-west-1"}, program=aws.get_caller_identity).error is None


def test_an_engine_call_made_outside_a_run_is_answered_on_the_engine_thread(small):
    """Only a run's own calls are answered on the spot: any other, from the same loop or with none running,
    goes to the engine's thread, as it would to a thread pool."""
    loop = asyncio.get_event_loop_policy().get_event_loop()  # the loop runs use, with the harness's executor

    async def from_the_running_loop() -> threading.Thread:
        return await loop.run_in_executor(None, threading.current_thread)

    threads = [
        loop.run_until_complete(loop.run_in_executor(None, threading.current_thread)),
        loop.run_until_complete(from_the_running_loop()),
    ]
    assert all(t is not threading.current_thread() and t.name.startswith("mock-engine") for t in threads)
    assert asyncio.get_event_loop_policy().get_event_loop() is loop


def _ask_the_engine_thread() -> None:
    loop = asyncio.get_event_loop_policy().get_event_loop()
    thread = loop.run_until_complete(loop.run_in_executor(None, threading.current_thread))
    os._exit(0 if thread.name.startswith("mock-engine") else 1)


def test_a_process_forked_after_runs_gets_an_engine_thread_of_its_own(small):
    """`tasks.py plan` and `tasks.py policy` fork their workers after runs: a fork has none of the parent's
    threads, and the loop it inherits must still get its engine calls answered."""
    pid = os.fork()
    if pid == 0:
        try:
            _ask_the_engine_thread()
        finally:
            os._exit(2)
    for _ in range(200):  # a child that never gets its answer hangs: give it 10 s
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked process got no answer from the engine's executor")
    assert os.waitstatus_to_exitcode(status) == 0
