"""The offline preview (`python3 tasks.py plan`): tree, counts, cost, preview JSON, diagram, config errors.

On the fixture environments and a synthetic one; the command run over the repository's own stack
files, whatever they hold, is in test_stack_files.py.
"""

import dataclasses
import functools
import json
import re

import pytest
import synthetic_env
from helpers import FIXTURE_NAMES, fixture_config

from offline import cost, diagram, plan, preview_json
from offline.harness import evaluate

PRICES = cost.load_prices()["prices"]
HOURS = 730


@functools.cache
def planned(name: str) -> plan.Preview:
    """A fixture environment's offline preview, once per session."""
    result = plan.preview(name, fixture_config(name))
    assert not result.errors, result.errors
    return result


@functools.cache
def synthetic(region: str = "eu-west-1", preview: bool = False):
    graph = evaluate("dev", {"aws:region": region}, preview=preview, program=lambda: synthetic_env.program(region))
    assert graph.error is None, graph.error
    return graph


def lines_of(estimate: cost.Estimate, name: str, contains: str) -> list[cost.Line]:
    return [line for line in estimate.lines if line.name == name and contains in line.item]


def money(value: float) -> float:
    return round(value + 1e-9, 2)


# --- tree and counts ------------------------------------------------------------------------


def test_tree_lists_each_component_then_its_children_indented_as_create_steps():
    text = plan.render(planned("prodlike"))
    rows = [line for line in text.splitlines() if line.startswith(" +   ")]
    types = [row.split()[1:] for row in rows]
    assert types[0][0] == "pulumi:pulumi:Stack"
    network = next(i for i, row in enumerate(rows) if "ecs-platform:network:Network" in row)
    assert re.match(r" \+   [├└]─ ecs-platform:network:Network", rows[network])
    children = []
    for row in rows[network + 1 :]:
        if re.match(r" \+   [├└]─", row):  # the next component of the stack
            break
        children.append(row)
    assert children and all(re.match(r" \+   [│ ]  ", row) for row in children)
    assert any("awsx:ec2:Vpc" in row and "network-vpc" in row for row in children)
    # a grandchild (the ingress rule under its security group) is indented one level deeper
    assert any(
        re.match(r" \+   [│ ]  │  └─ aws:vpc/securityGroupIngressRule:\S+\s+network-endpoints-https", r) for r in rows
    )
    assert all(row.rstrip().endswith("create") for row in rows)


def test_counts_per_type_and_the_create_summary():
    text = plan.render(planned("prodlike"))
    # five interface endpoints of the program, and the S3 gateway endpoint awsx registers in the VPC
    assert re.search(r"^\s+6  aws:ec2/vpcEndpoint:VpcEndpoint$", text, re.M)
    assert re.search(r"^\s+1  awsx:ec2:Vpc$", text, re.M)
    assert f"+ {len(planned('prodlike').reported.resources)} to create" in text


def test_policy_section_is_printed_even_before_the_check_is_wired():
    assert "Policy verdicts:" in plan.render(planned("small"))


# --- cost -----------------------------------------------------------------------------------


def test_small_pays_for_one_nat_gateway_and_its_address():
    estimate = planned("small").cost
    nat = PRICES["natGatewayHour"]["usd"]
    ip = PRICES["publicIpv4Hour"]["usd"]
    [nat_line] = lines_of(estimate, "network-vpc", "NAT gateway (strategy Single)")
    assert nat_line.monthly == money(HOURS * nat) == 35.04
    [ip_line] = lines_of(estimate, "network-vpc", "public IPv4")
    assert ip_line.monthly == money(HOURS * ip)
    assert estimate.total == pytest.approx(sum(line.monthly for line in estimate.lines))
    assert "NAT gateway data processing (per GB)" in estimate.left_out


def test_prodlike_pays_for_a_nat_gateway_per_az_and_each_interface_endpoint_in_each_az():
    estimate = planned("prodlike").cost
    [nat_line] = lines_of(estimate, "network-vpc", "3 NAT gateways")
    assert nat_line.monthly == money(3 * HOURS * PRICES["natGatewayHour"]["usd"])
    endpoints = [line for line in estimate.lines if line.type == "aws:ec2/vpcEndpoint:VpcEndpoint"]
    assert len(endpoints) == 5
    assert {line.monthly for line in endpoints} == {money(3 * HOURS * PRICES["interfaceEndpointAzHour"]["usd"])}
    assert "interface endpoint data processing (per GB)" in estimate.left_out


def test_alb_hours_assumed_lcu_and_public_addresses():
    estimate = cost.estimate(synthetic(preview=True))
    [hours] = lines_of(estimate, "web", "ALB hours")
    assert hours.monthly == money(HOURS * PRICES["albHour"]["usd"]) == 18.40
    [lcu] = lines_of(estimate, "web", "LCU")
    assert lcu.monthly == money(HOURS * PRICES["albLcuHour"]["usd"])
    [ips] = lines_of(estimate, "web", "2 public IPv4")  # one per AZ of its public subnets
    assert ips.monthly == money(2 * HOURS * PRICES["publicIpv4Hour"]["usd"])


def test_fargate_tasks_follow_the_cluster_strategy_base_and_weights_and_the_task_size():
    estimate = cost.estimate(synthetic(preview=True))
    arm = PRICES["fargate"]["arm64"]
    per_task = (0.5 * arm["vcpuHour"] + 1 * arm["gbHour"]) * HOURS
    discount = cost.load_prices()["assumptions"]["fargateSpotDiscount"]
    # 4 tasks: base 1 on FARGATE, the other 3 by weight 1:2 -> 2 on demand, 2 on Spot
    [on_demand] = lines_of(estimate, "api", "Fargate tasks on demand")
    [spot] = lines_of(estimate, "api", "Fargate Spot")
    assert on_demand.item.startswith("2 ") and "0.5 vCPU / 1 GB arm64" in on_demand.item
    assert on_demand.monthly == money(2 * per_task) == 28.84
    assert spot.monthly == money(2 * per_task * (1 - discount))
    assert any("Spot" in a for a in estimate.assumptions)


def test_rds_multi_az_instance_storage_and_managed_secret():
    estimate = cost.estimate(synthetic(preview=True))
    rds = PRICES["rdsPostgres"]["instanceHour"]["db.t4g.micro"]
    [instance] = lines_of(estimate, "db", "db.t4g.micro PostgreSQL Multi-AZ")
    assert instance.monthly == money(HOURS * rds["multiAz"]) == 24.82
    [storage] = lines_of(estimate, "db", "20 GB gp3 storage (Multi-AZ)")
    assert storage.monthly == money(20 * PRICES["rdsGp3GbMonth"]["multiAz"])
    [secret] = lines_of(estimate, "db", "master password secret")
    assert secret.monthly == PRICES["secretMonth"]["usd"]


def test_bastion_kms_secret_alarm_dashboard_and_pipeline_are_priced():
    estimate = cost.estimate(synthetic(preview=True))
    [ec2] = lines_of(estimate, "bastion", "t4g.nano")
    assert ec2.monthly == money(HOURS * PRICES["ec2LinuxHour"]["t4g.nano"])
    [root] = lines_of(estimate, "bastion", "8 GB gp3 root volume")
    assert root.monthly == money(8 * PRICES["ebsGp3GbMonth"]["usd"])
    flat = {line.type: line.monthly for line in estimate.lines if line.formula.startswith("1 x $")}
    assert flat["aws:kms/key:Key"] == PRICES["kmsKeyMonth"]["usd"]
    assert flat["aws:cloudwatch/metricAlarm:MetricAlarm"] == PRICES["cloudwatchAlarmMonth"]["usd"]
    assert flat["aws:cloudwatch/dashboard:Dashboard"] == PRICES["cloudwatchDashboardMonth"]["usd"]
    assert flat["aws:codepipeline/pipeline:Pipeline"] == PRICES["codepipelineV1Month"]["usd"]
    assert estimate.total == pytest.approx(sum(line.monthly for line in estimate.lines))


def test_the_estimate_needs_no_deployed_values():
    """Priced from the preview graph (subnets unknown: AZs come from the VPC they were taken from)."""
    preview, known = cost.estimate(synthetic(preview=True)), cost.estimate(synthetic())
    assert [(x.item, x.monthly) for x in preview.lines] == [(x.item, x.monthly) for x in known.lines]
    assert not preview.warnings


def test_a_resource_missing_from_the_price_table_is_named_and_the_total_says_it_is_incomplete():
    graph = synthetic(preview=True)
    db = next(r for r in graph.resources if r.type == "aws:rds/instance:Instance")
    unknown_class = dataclasses.replace(db, inputs={**db.inputs, "instanceClass": "db.x2iedn.32xlarge"})
    other = dataclasses.replace(graph, resources=[unknown_class if r is db else r for r in graph.resources])
    estimate = cost.estimate(other)
    assert any("db.x2iedn.32xlarge is not in the price table: instance not priced" in w for w in estimate.warnings)
    assert "Total (incomplete: 1 item(s) not priced, see warnings)" in "\n".join(plan.cost_lines(estimate))


def test_a_stack_in_another_region_is_estimated_at_the_table_region_with_a_warning():
    estimate = cost.estimate(synthetic("us-east-1", preview=True))
    assert any("us-east-1" in w and "eu-west-1 list prices" in w for w in estimate.warnings)


# --- preview JSON ------------------------------------------------------------------------------


def test_json_has_the_shape_of_pulumi_preview_json(tmp_path):
    plan.write_json(planned("prodlike"), tmp_path / "prodlike.json")
    doc = json.loads((tmp_path / "prodlike.json").read_text())
    steps = doc["steps"]
    assert doc["changeSummary"] == {"create": len(steps)} == {"create": len(planned("prodlike").reported.resources)}
    for step in steps:
        assert step["op"] == "create"
        state = step["newState"]
        assert state["urn"] == step["urn"] and state["type"] and isinstance(state["inputs"], dict)
        assert state["id"] == "" and isinstance(state["custom"], bool)
    by_type = {s["newState"]["type"]: s for s in steps}
    assert "parent" not in by_type["pulumi:pulumi:Stack"]["newState"]
    vpc = by_type["awsx:ec2:Vpc"]["newState"]
    assert vpc["parent"] == by_type["ecs-platform:network:Network"]["urn"]
    endpoint = by_type["aws:ec2/vpcEndpoint:VpcEndpoint"]
    # unknowns look like the engine's: the computed-value placeholder, also in the provider reference
    assert endpoint["newState"]["inputs"]["subnetIds"] == preview_json.UNKNOWN
    assert endpoint["provider"].endswith("::" + preview_json.UNKNOWN)
    assert endpoint["newState"]["propertyDependencies"]["subnetIds"] == [vpc["urn"]]
    assert doc["config"]["aws:region"] == "eu-west-1"
    assert doc["ecsPlatform"]["cost"]["totalMonthly"] == pytest.approx(planned("prodlike").cost.total)
    assert doc["ecsPlatform"]["countsByType"]["aws:ec2/vpcEndpoint:VpcEndpoint"] == 6


def test_json_masks_secrets():
    graph = synthetic(preview=True)
    doc = preview_json.document(graph, {"aws:region": "eu-west-1"})
    text = json.dumps(doc)
    assert synthetic_env.SECRET not in text
    [version] = [s for s in doc["steps"] if s["newState"]["type"] == "aws:secretsmanager/secretVersion:SecretVersion"]
    assert version["newState"]["inputs"]["secretString"] == preview_json.SECRET


def test_every_stack_gets_its_own_json_and_diagram_file(monkeypatch, tmp_path):
    # The command over two stacks whose files are the small and prodlike fixtures.
    monkeypatch.setattr(plan, "stack_names", lambda root: ["small", "prodlike"])
    monkeypatch.setattr(plan, "stack_config", lambda stack, root: fixture_config(stack))
    assert plan.main(["--json", str(tmp_path / "plan.json"), "--diagram", str(tmp_path / "{stack}.md")]) == 0
    for stack in ("small", "prodlike"):
        assert json.loads((tmp_path / f"plan.{stack}.json").read_text())["steps"]
        assert (tmp_path / f"{stack}.md").read_text().count("```mermaid") == 1


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_each_fixture_environment_is_previewed_priced_written_and_drawn(name, tmp_path):
    result = planned(name)
    assert result.errors == [] and result.cost.total > 0
    plan.write_json(result, tmp_path / f"{name}.json")
    assert len(json.loads((tmp_path / f"{name}.json").read_text())["steps"]) == len(result.reported.resources)
    assert diagram.mermaid(result.known).startswith("flowchart TB")


# --- diagram ----------------------------------------------------------------------------------


def test_small_diagram_shows_the_tiers_and_nat_egress():
    text = diagram.mermaid(planned("small").known)
    assert text.startswith("flowchart TB")
    for tier in ("public", "private", "isolated"):
        assert f'subgraph n_tier_{tier}["{tier} subnets (eu-west-1a, eu-west-1b)"]' in text
    assert "10.10.48.0/24, 10.10.49.0/24" in text
    assert 'n_nat_network_vpc["NAT gateway x1"]' in text
    assert 'n_tier_private -.->|"egress"| n_nat_network_vpc' in text


def test_prodlike_diagram_lets_the_vpc_reach_the_interface_endpoints_on_443():
    text = diagram.mermaid(planned("prodlike").known)
    assert re.search(r'n_endpoints_private\["interface endpoints<br/>ecr\.api, .*secretsmanager, ssm"\]', text)
    assert 'n_vpc_cidr -->|"tcp 443"| n_endpoints_private' in text


def test_diagram_edges_come_from_security_group_rules_and_alb_routing():
    text = diagram.mermaid(synthetic())
    edges = {line.strip() for line in text.splitlines() if re.search(r"-->|==>|-\.->", line)}
    assert 'internet -->|"tcp 443"| n_lb_web' in edges
    assert 'n_lb_web -->|"tcp 8080"| n_service_api' in edges
    assert 'n_lb_web ==>|"/api/*"| n_service_api' in edges
    assert 'n_service_api -->|"tcp 5432"| n_db_db' in edges
    assert 'n_instance_bastion -->|"tcp 5432"| n_db_db' in edges
    assert 'n_pipeline_api -.->|"deploys"| n_service_api' in edges
    # the database sits in the isolated tier, the service and bastion in the private one
    isolated = text.split("subgraph n_tier_isolated")[1].split("end")[0]
    private = text.split("subgraph n_tier_private")[1].split("    end")[0]
    assert "n_db_db" in isolated and "n_service_api[" in private and "n_instance_bastion[" in private
    ids = re.findall(r"^\s+(\w+)[\[\(]", text, re.M)
    assert ids and all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in ids)


# --- config errors ------------------------------------------------------------------------------


def test_invalid_config_prints_the_programs_one_line_error_and_exits_non_zero(monkeypatch, capsys, tmp_path):
    bad = fixture_config("small")
    bad["ecs-platform:network"] = {**bad["ecs-platform:network"], "azCount": 4}
    # The command over one stack, `small`, whose file holds the bad config.
    monkeypatch.setattr(plan, "stack_names", lambda root: ["small"])
    monkeypatch.setattr(plan, "stack_config", lambda stack, root: bad)
    assert plan.main(["small", "--json", str(tmp_path / "small.json")]) == 1
    err = capsys.readouterr().err
    assert "error: ecs-platform:network.azCount: must be less than or equal to 3 (got 4)" in err.splitlines()
    doc = json.loads((tmp_path / "small.json").read_text())
    assert "steps" not in doc
    [diagnostic] = doc["diagnostics"]
    assert diagnostic["severity"] == "error"
    assert diagnostic["message"] == "error: ecs-platform:network.azCount: must be less than or equal to 3 (got 4)\n"
    assert diagnostic["urn"] == "urn:pulumi:small::ecs-platform::pulumi:pulumi:Stack::ecs-platform-small"
