"""The demo's Transit Gateway defects, beside the correct TGW network of seed_network.py.

network account:
- core-tgw (us-east-1) has a flow log to S3, and default association and propagation off with
  two route tables (segmented, and kept so): the correct control of tgw-flow-logs-missing,
  tgw-default-route-table-open and tgw-auto-accept-shared-attachments. Its prod table's
  blackhole carves the sandbox out of a broader route: deliberate, left alone.
- eu-tgw (eu-west-1) has no flow log (tgw-flow-logs-missing). eu-app, moving from its peering
  to the Transit Gateway, was attached but never associated with a route table
  (tgw-attachment-unassociated); eu-shared's attachment, associated with "eu", is the control.
app-prod account, us-east-1, app-tgw: made by hand with AWS's defaults, so default association
and propagation are on although it has a second route table, app-isolated
(tgw-default-route-table-open), and shared attachments are accepted automatically
(tgw-auto-accept-shared-attachments, low: no sharing is visible). It has a flow log.
- spoke-a and spoke-b are attached (associated with and propagating into its default table);
  spoke-a routes spoke-b's 10.2.0.0/16 to it, but spoke-b's route table has no route back,
  so its replies leave by its NAT gateway and are lost (tgw-route-one-way on spoke-b's
  attachment; spoke-a's is the control).
- web was attached, a static route 10.5.0.0/16 was pointed at its attachment, and the
  attachment was deleted: the route is a blackhole in a table spoke-a and spoke-b are
  associated with (tgw-route-blackhole).
- app-tgw asked app-edge-tgw, app-prod's new Transit Gateway in the same region (defaults off,
  a flow log, nothing attached yet), for a peering nobody accepted (tgw-peering-pending, which
  names app-prod us-east-1 as where to accept it; core-tgw's accepted peering to eu-tgw is the
  control). Both ends are in one account and region, so the finding has one place to be.
"""

from __future__ import annotations

from vpcaudit.demo.accounts import HUB_REGION, Account, Seeded
from vpcaudit.demo.fidelity import MotoFidelity
from vpcaudit.demo.seed_network import Tgw


def seed_tgw(seeded: Seeded, fidelity: MotoFidelity, app: Account, core: Tgw, eu_tgw: Tgw) -> None:
    """The Transit Gateway defects of the module docstring."""
    sn, att, tables = seeded.subnets, seeded.tgw_attachments, seeded.tgw_route_tables
    _tgw_flow_log(seeded, core)
    a_eu_app = eu_tgw.attach("eu-app", [sn["eu-app-a"]], ("172.16.0.0/16",))

    # AWS's defaults: default association and propagation on, auto-accept on here.
    app_tgw = Tgw(
        app,
        HUB_REGION,
        "app-tgw",
        fidelity,
        seeded,
        options={"AutoAcceptSharedAttachments": "enable"},
    )
    _tgw_flow_log(seeded, app_tgw)
    default = app_tgw.default_table
    isolated = app_tgw.table("app-isolated")
    a_spoke_a = app_tgw.attach("spoke-a", [sn["spoke-a-a"]], ("10.1.0.0/16",))
    a_spoke_b = app_tgw.attach("spoke-b", [sn["spoke-b-a"]], ("10.2.0.0/16",))
    # EC2 associates each new attachment with the default table and propagates it there by
    # itself; moto only associates, so the seeding enables the propagation EC2 would make.
    for a in (a_spoke_a, a_spoke_b):
        fidelity.record_tgw_association(default, a)
    app_tgw.propagate(default, a_spoke_a, a_spoke_b)
    # spoke-a routes spoke-b's range to the TGW; spoke-b never routes spoke-a's back.
    app.ec2(HUB_REGION).create_route(
        RouteTableId=seeded.route_tables["spoke-a"],
        DestinationCidrBlock="10.2.0.0/16",
        TransitGatewayId=app_tgw.id,
    )
    # web's attachment is gone; the static route to it stays, a blackhole.
    a_web = app_tgw.attach("web", [sn["web-private-a"]], ("10.5.0.0/16",))
    app_tgw.route(default, "10.5.0.0/16", a_web)
    app.ec2(HUB_REGION).delete_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=a_web)
    fidelity.record_deleted_tgw_attachment(a_web)
    # app-prod's new edge TGW: app-tgw's peering request to it waits for acceptance.
    app_edge = Tgw(app, HUB_REGION, "app-edge-tgw", fidelity, seeded)
    _tgw_flow_log(seeded, app_edge)
    pending = app_tgw.peer(app_edge, accept=False)
    att["app-edge-peering"] = pending

    fidelity_only = {
        ("tgw-route-blackhole", default),
        ("tgw-route-one-way", a_spoke_b),
        ("tgw-attachment-unassociated", a_eu_app),
    }
    seeded.expected |= fidelity_only | {
        ("tgw-default-route-table-open", app_tgw.id),
        ("tgw-auto-accept-shared-attachments", app_tgw.id),
        ("tgw-flow-logs-missing", eu_tgw.id),
        ("tgw-peering-pending", pending),
    }
    seeded.needs_fidelity |= fidelity_only
    c = seeded.controls
    c["tgw-route-blackhole"] |= {tables["prod"], tables["shared"], tables["eu"], isolated}
    live = {att[n] for n in ("prod-app", "shared-services", "sandbox", "eu-shared")}
    c["tgw-route-one-way"] |= live | {a_spoke_a}
    c["tgw-attachment-unassociated"] |= live | {a_spoke_a, a_spoke_b, att["core-eu-peering"]}
    for rule in ("tgw-default-route-table-open", "tgw-auto-accept-shared-attachments"):
        c[rule] |= {core.id, eu_tgw.id, app_edge.id}
    c["tgw-flow-logs-missing"] |= {core.id, app_tgw.id, app_edge.id}
    c["tgw-peering-pending"].add(att["core-eu-peering"])


def _tgw_flow_log(seeded: Seeded, tgw: Tgw) -> None:
    """A flow log on the Transit Gateway to its owner's bucket (TGW flow logs take no
    traffic type)."""
    seeded.flow_logs[_name(seeded, tgw.id)] = str(
        tgw.ec2.create_flow_logs(
            ResourceIds=[tgw.id],
            ResourceType="TransitGateway",
            LogDestinationType="s3",
            LogDestination=f"arn:aws:s3:::{tgw.owner.bucket}",
        )["FlowLogIds"][0]
    )


def _name(seeded: Seeded, tgw_id: str) -> str:
    return next(n for n, i in seeded.transit_gateways.items() if i == tgw_id)
