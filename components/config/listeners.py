"""The shared listener's rules over all public services: their priorities, and rules that could never match."""

from __future__ import annotations

from components.config.base import Problem
from components.config.service import ServiceConfig


def listener_priorities(services: list[ServiceConfig]) -> dict[int, int]:
    """Index in `services` -> the ALB rule priority of that public service: `routing.priority`, else automatic.

    The ALB applies the first matching rule (lowest priority number). Automatic priorities
    are 10, 20, 30 ... over the public services without one, narrowest rule first (see
    `RoutingConfig.specificity`: exact hosts, wildcard hosts, any host; then exact paths,
    longer literal path prefixes, `/*` last), in list order where equally specific. So a
    catch-all never hides a narrower route, wherever it is listed.
    """
    public = [i for i, s in enumerate(services) if s.public]
    automatic = sorted(
        (i for i in public if services[i].rule.priority is None), key=lambda i: (services[i].rule.specificity(), i)
    )
    priorities = {i: 10 * (rank + 1) for rank, i in enumerate(automatic)}
    priorities.update({i: services[i].rule.priority for i in public if services[i].rule.priority is not None})
    return priorities


def listener_priority(service: ServiceConfig, services: list[ServiceConfig]) -> int:
    """The ALB rule priority of one service of `services`: `routing.priority` if set, else automatic (see
    `listener_priorities`)."""
    if service.rule.priority is not None:
        return service.rule.priority
    return listener_priorities(services)[next(i for i, s in enumerate(services) if s is service)]


def shadowed_rules(services: list[ServiceConfig], reported: set[int]) -> list[Problem]:
    """Rules that never match: a broader rule on the same host(s) comes first (explicit priorities)."""
    problems: list[Problem] = []
    priorities = listener_priorities(services)
    public = [(i, s, priorities[i]) for i, s in enumerate(services) if s.public and i not in reported]
    for j, narrow, narrow_priority in public:
        for i, broad, broad_priority in public:
            if broad_priority < narrow_priority and broad.rule.shadows(narrow.rule):
                # The key to change: the narrow rule's priority if set, else the broad one's.
                at = j if narrow.rule.priority is not None or broad.rule.priority is None else i
                problems.append(
                    (
                        ("services", at, "routing", "priority"),
                        f"the rule of {narrow.name} (services[{j}].routing, priority {narrow_priority}) never "
                        f"matches: the broader rule of {broad.name} (services[{i}].routing, priority "
                        f"{broad_priority}) comes first and takes all its requests; give {narrow.name} a lower "
                        f"priority than {broad.name}, or leave both priorities out to order the rules by specificity",
                        priorities[at],
                    )
                )
                break
    return problems
