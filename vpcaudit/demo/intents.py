"""The reachability intents of the demo: `vpcaudit scan --demo` checks them, and so does
`vpcaudit evaluate` of a snapshot saved by it (a plain `vpcaudit scan` does not).

They sit under the user's `--policy` files (built-in default, these intents, then each file),
so a file can replace one by its name or waive its findings. Kept as text here rather than as
a YAML file, so that they ship with the package like the code that seeds what they check.
Selectors name the demo's VPCs by their Name tags (a subnet without the tag takes its VPC's)
and its subnets by address: ids change every run.

- prod-reaches-shared-services holds: prod-app's subnets reach shared-services on https,
  through core-tgw (the prod TGW table's propagated 10.10.0.0/16, and back by the shared
  table). Its sources are the correct control of reachability-intent.
- prod-isolated-from-sandbox holds: the prod TGW table blackholes the sandbox's 10.30.0.0/16.
- shared-services-reach-reports is violated: shared-services' subnets send https to prod-app's
  reports subnet, which the reports ACL admits, but the ACL lets out only https, so the
  replies to their ephemeral ports are dropped (the path question "blocked-by-nacl-return").
  One finding per source subnet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from vpcaudit.demo.accounts import Seeded
from vpcaudit.policy import Policy, parse_policy
from vpcaudit.policy_intents import merge_intents
from vpcaudit.rules.base import Rule

SOURCE = "<demo intents>"
"""How the intents' `defined_at` names them (with the line in INTENTS)."""
INTENTS = """\
intents:
  - name: prod-reaches-shared-services
    description: prod-app calls shared services over https, through core-tgw.
    from: {tag: {Name: prod-app}}
    to: {tag: {Name: shared-services}}
    protocol: tcp
    port: 443
    via: transit-gateway
    expect: reachable
  - name: prod-isolated-from-sandbox
    description: Production never reaches the sandbox.
    from: {tag: {Name: prod-app}}
    to: {tag: {Name: sandbox}}
    expect: unreachable
  - name: shared-services-reach-reports
    description: shared services call the reports API of prod-app over https.
    from: {tag: {Name: shared-services}}
    to: {cidr: 10.20.3.0/24}
    protocol: tcp
    port: 443
    expect: reachable
"""


def with_demo_intents(policy: Policy, rules: Mapping[str, Rule[Any]]) -> Policy:
    """A loaded policy (the built-in default, then the user's files) with the demo's intents
    layered between the two: an intent of the same name in a user's file wins."""
    demo = parse_policy(INTENTS, SOURCE, rules)
    # The demo's text holds intents only, so putting it under the files is just this.
    return dataclasses.replace(
        policy,
        sources=(*policy.sources[:1], *demo.sources, *policy.sources[1:]),
        intents=merge_intents(demo.intents, policy.intents),
    )


def record_intents(seeded: Seeded) -> None:
    """The findings the demo's intents must give, and the subnets they must leave alone."""
    sn = seeded.subnets
    violations = {
        ("reachability-intent", sn["shared-services-a"]),
        ("reachability-intent", sn["shared-services-b"]),
    }
    seeded.expected |= violations
    seeded.intent_violations |= violations
    seeded.controls["reachability-intent"] |= {
        sn["prod-app-a"],
        sn["prod-app-b"],
        sn["prod-app-reports"],
        sn["sandbox-a"],
    }
