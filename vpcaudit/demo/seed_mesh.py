"""The demo's peering at scale: a hub VPC near its peering quota, and a group of peered VPCs
large enough to consider a Transit Gateway, beside the small hub-and-spoke group of seed.py.

analytics, us-east-1: data-hub 10.100.0.0/24 is peered with 40 project VPCs (10.100.1.0/24 to
10.100.40.0/24), each peering accepted and resolving private DNS both ways, every VPC
flow-logged. 40 active peerings are 80 % of the default quota of 50 (peering-quota-near on
data-hub), and the 41 VPCs are one connected group (peering-mesh-consider-tgw, located on
the group's first VPC by id). The network account's hub, peered with four VPCs, is the control
of both. The VPCs have no subnets and the peerings no routes: the projects are placeholders,
kept cheap because every test of the demo seeds them.

data-hub's from-project-01 group admits https from a group of project-01 across their active
peering: the correct control of sg-stale-reference (seed_hygiene.py has the stale one).
"""

from __future__ import annotations

from vpcaudit.demo.accounts import HUB_REGION, Account, Seeded, name_tag
from vpcaudit.demo.seed_hygiene import reference_across

PROJECTS = 40
"""Peerings of data-hub: 80 % of the default per-VPC quota of 50, where peering-quota-near
starts to report."""
_DNS = {"AllowDnsResolutionFromRemoteVpc": True}


def seed_mesh(seeded: Seeded, ana: Account) -> None:
    """The data-hub group of the module docstring, in the analytics account."""
    us = ana.ec2(HUB_REGION)

    def vpc(name: str, cidr: str) -> str:
        vid = str(
            us.create_vpc(CidrBlock=cidr, TagSpecifications=name_tag("vpc", name))["Vpc"]["VpcId"]
        )
        seeded.vpcs[name] = vid
        return vid

    hub = vpc("data-hub", "10.100.0.0/24")
    projects = [vpc(f"project-{i:02d}", f"10.100.{i}.0/24") for i in range(1, PROJECTS + 1)]
    for i, project in enumerate(projects, start=1):
        pcx = str(
            us.create_vpc_peering_connection(VpcId=hub, PeerVpcId=project)["VpcPeeringConnection"][
                "VpcPeeringConnectionId"
            ]
        )
        us.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        us.modify_vpc_peering_connection_options(
            VpcPeeringConnectionId=pcx,
            RequesterPeeringConnectionOptions=_DNS,
            AccepterPeeringConnectionOptions=_DNS,
        )
        seeded.peerings[f"data-hub-project-{i:02d}"] = pcx
    members = [hub, *projects]
    # One call logs every VPC of the group (EC2 takes up to 1,000 resources a call).
    us.create_flow_logs(
        ResourceIds=members,
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{ana.bucket}",
    )
    control = reference_across(
        us,
        seeded,
        ana.account_id,
        ((hub, "data-hub/from-project-01"), (projects[0], "project-01/app")),
        seeded.peerings["data-hub-project-01"],
    )
    seeded.expected |= {
        ("peering-quota-near", hub),
        # The group's finding is located on its first VPC by id.
        ("peering-mesh-consider-tgw", min(members)),
    }
    seeded.controls["sg-stale-reference"].add(control)
    small = {seeded.vpcs[n] for n in ("hub", "spoke-a", "spoke-b", "eu-app")}
    seeded.controls["peering-quota-near"] |= small | set(projects)
    seeded.controls["peering-mesh-consider-tgw"] |= small
