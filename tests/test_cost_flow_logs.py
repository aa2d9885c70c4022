"""Flow-log delivery shows in the cost estimate, from a stated assumed volume, for either destination."""

import pytest
from helpers import fixture, with_config

from offline import cost

PRICES = cost.load_prices()
RATES = PRICES["prices"]["vendedLogsGb"]
VOLUME = PRICES["assumptions"]["flowLogGbPerMonth"]


def flow_log_lines(estimate: cost.Estimate) -> list[cost.Line]:
    return [line for line in estimate.lines if line.type == "aws:ec2/flowLog:FlowLog"]


def destination(where: str, traffic: str = "ALL"):
    return lambda c: c["ecs-platform:network"]["flowLogs"].update(destination=where, trafficType=traffic)


def test_cloudwatch_logs_ingestion_of_the_assumed_volume_is_priced_with_the_assumption_stated():
    estimate = cost.estimate(with_config("prodlike", destination("cloudWatchLogs")))
    [line] = flow_log_lines(estimate)
    assert line.item == f"flow logs to CloudWatch Logs, {VOLUME['ALL']:g} GB/month of ALL traffic (assumed)"
    assert line.monthly == pytest.approx(VOLUME["ALL"] * RATES["cloudWatchLogs"], abs=0.01)
    assert PRICES["assumptions"]["flowLogGbPerMonthNote"] in estimate.assumptions


def test_prodlike_ships_flow_logs_to_s3_as_parquet_at_the_vended_logs_s3_rate():

    estimate = cost.estimate(fixture("prodlike"))
    [line] = flow_log_lines(estimate)
    assert line.item == f"flow logs to S3, {VOLUME['ALL']:g} GB/month of ALL traffic (assumed)"
    assert line.formula == f"{VOLUME['ALL']:g} GB x (${RATES['s3']:g} + ${RATES['parquetConversion']:g} Parquet)"
    assert line.monthly == pytest.approx(VOLUME["ALL"] * (RATES["s3"] + RATES["parquetConversion"]), abs=0.01)
    cloudwatch = flow_log_lines(cost.estimate(with_config("prodlike", destination("cloudWatchLogs"))))[0]
    assert line.monthly < cloudwatch.monthly


def test_the_traffic_type_picks_the_assumed_volume(small):
    [line] = flow_log_lines(cost.estimate(small))  # small: REJECT to CloudWatch Logs
    assert line.monthly == pytest.approx(VOLUME["REJECT"] * RATES["cloudWatchLogs"], abs=0.01)


def test_without_flow_logs_there_is_no_line_and_no_assumption():
    estimate = cost.estimate(
        with_config("small", lambda c: c["ecs-platform:network"].update(flowLogs={"enabled": False}))
    )
    assert flow_log_lines(estimate) == []
    assert PRICES["assumptions"]["flowLogGbPerMonthNote"] not in estimate.assumptions
