"""nat-cross-az: subnets whose internet traffic leaves through another zone's NAT gateway, and
the commands that move it to their own zone without cutting any other route."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from vpcaudit.inventory import Inventory, NatGateway, RouteTable, Subnet
from vpcaudit.model import Severity, Violation
from vpcaudit.rules.base import NoParams, RuleOutput, rule
from vpcaudit.rules.common import cli, destination_flag, dq, note, q, route_table_ref


@rule(
    id="nat-cross-az",
    title="Subnet egress through a NAT gateway in another Availability Zone",
    severity=Severity.MEDIUM,
    area="nat",
    rationale="""
        A subnet whose default route (0.0.0.0/0 in its own route table: its explicit
        association, else the VPC's main table) goes to a NAT gateway in another Availability
        Zone pays cross-AZ data transfer on every byte of its internet traffic, on top of NAT
        processing, and loses its egress when that other zone fails. Graded medium when the
        VPC has an available NAT gateway of the same kind in the subnet's own zone that the
        route could use, low when it has none (one NAT gateway for the VPC, a cost choice).
        Zone names are compared only between subnets read in the same account, as each
        account maps them to physical zones its own way. Routes to dead NAT gateways are
        left to route-blackhole.
    """,
    remediation="""
        Route the zone's subnets to a NAT gateway of their own zone: replace the default route
        when the route table serves only that zone, else give the zone its own copy of the
        table (aws ec2 create-route-table, the same routes, then associate the subnets).
    """,
    evidence=(
        "route_table_id",
        "vpc_id",
        "subnet_ids",
        "subnet_zone",
        "nat_gateway_id",
        "nat_zone",
        "same_zone_nat_gateway_id",
        "table_zones",
    ),
    params=NoParams,
    legitimate=(
        """One NAT gateway for a whole VPC, kept on purpose to save the hourly charge of one
        per zone: graded low, with the trade-off in the message; waive it to keep it.""",
        """Subnets in a zone that has no NAT gateway of the VPC (a Local Zone, say) route to
        one in another zone: graded low, as there is no same-zone gateway to use.""",
        """Central egress through a Transit Gateway is not judged: the subnet's default route
        then goes to the Transit Gateway, not to a NAT gateway.""",
    ),
)
def nat_cross_az(inv: Inventory, params: NoParams) -> RuleOutput:
    """Flag route tables that send a zone's subnets to a NAT gateway in another zone."""
    del params
    if not inv.nat_gateways:
        return
    index = _Index.of(inv)
    readable: dict[tuple[str, str], bool] = {}
    table_zones: dict[str, set[str]] = defaultdict(set)
    found: dict[tuple[str, str], _Crossing] = {}
    for s in _one_copy_each(inv.subnets):
        where = (s.account_id, s.region)
        if where not in readable:
            kinds = ("subnets", "route_tables", "nat_gateways")
            readable[where] = all(inv.was_read(*where, k) for k in kinds)
        rt = index.table(s) if readable[where] else None
        if rt is None:
            continue
        table_zones[rt.route_table_id].add(s.availability_zone)
        nat = index.default_nat(inv, rt)
        far = index.nat_zone.get((s.account_id, nat.nat_gateway_id)) if nat else None
        if nat is None or far is None or far == s.availability_zone:
            continue
        key = (rt.route_table_id, s.availability_zone)
        if key not in found:
            near = index.by_zone.get((s.account_id, rt.vpc_id, s.availability_zone), [])
            local = next((n for n in near if n.connectivity == nat.connectivity), None)
            found[key] = _Crossing(
                rt, nat, far, s.availability_zone, [], local, table_zones[rt.route_table_id]
            )
        found[key].subnets.append(s)
    for key in sorted(found):
        yield found[key].finding(inv)


@dataclass(frozen=True)
class _Index:
    """Lookups per subnet, keyed by the reading account: zone names are per account."""

    explicit: dict[tuple[str, str], RouteTable]
    main: dict[tuple[str, str], RouteTable]
    nat_zone: dict[tuple[str, str], str]
    """(account, NAT gateway) -> the zone of its subnet, for available NAT gateways."""
    by_zone: dict[tuple[str, str, str], list[NatGateway]]
    """(account, VPC, zone) -> its available NAT gateways, by id."""
    defaults: dict[str, NatGateway | None]

    @classmethod
    def of(cls, inv: Inventory) -> _Index:
        """Build every index in one pass over subnets, route tables and NAT gateways."""
        subnets = {(s.account_id, s.subnet_id): s for s in inv.subnets}
        index = cls({}, {}, {}, defaultdict(list), {})
        for t in inv.route_tables:
            for sid in t.subnet_ids:
                index.explicit[(t.account_id, sid)] = t
            if t.is_main:
                index.main[(t.account_id, t.vpc_id)] = t
        for n in sorted(inv.nat_gateways, key=lambda n: n.nat_gateway_id):
            home = subnets.get((n.account_id, n.subnet_id))
            if n.state == "available" and home is not None:
                index.nat_zone[(n.account_id, n.nat_gateway_id)] = home.availability_zone
                index.by_zone[(n.account_id, n.vpc_id, home.availability_zone)].append(n)
        return index

    def table(self, s: Subnet) -> RouteTable | None:
        """The subnet's route table: its explicit association, else its VPC's main table."""
        key = (s.account_id, s.subnet_id)
        return self.explicit.get(key) or self.main.get((s.account_id, s.vpc_id))

    def default_nat(self, inv: Inventory, t: RouteTable) -> NatGateway | None:
        """The available NAT gateway t's active 0.0.0.0/0 route goes to, if it does."""
        if t.route_table_id not in self.defaults:
            self.defaults[t.route_table_id] = _default_nat(inv, t)
        return self.defaults[t.route_table_id]


@dataclass(frozen=True)
class _Crossing:
    """The subnets of one zone that one route table sends to another zone's NAT gateway."""

    table: RouteTable
    nat: NatGateway
    nat_zone: str
    zone: str
    subnets: list[Subnet]
    local: NatGateway | None
    """An available NAT gateway of the same kind in the subnets' own zone."""
    table_zones: set[str]
    """Every zone whose subnets use the table (filled in as the subnets are walked)."""

    def finding(self, inv: Inventory) -> Violation:
        """The finding, graded and with the commands that fit what the VPC has."""
        t, ids = self.table, sorted(s.subnet_id for s in self.subnets)
        if self.local is not None:
            why = (
                f"NAT gateway {self.local.nat_gateway_id} in {self.zone} could serve them: "
                f"they pay cross-AZ data transfer for nothing, and a failure of "
                f"{self.nat_zone} takes their internet egress with it."
            )
            steps = self.reroute(inv, q(self.local.nat_gateway_id))
        else:
            why = (
                f"the VPC has no NAT gateway in {self.zone}. One NAT gateway saves the hourly "
                f"charge of another at the price of cross-AZ data transfer on this traffic, "
                f"which a failure of {self.nat_zone} also cuts off; keep it if that trade-off "
                f"is deliberate."
            )
            steps = self.new_nat(inv)
        return Violation(
            resource=route_table_ref(t),
            message=(
                f"Route table {t.route_table_id} ({t.vpc_id}) sends the internet traffic of "
                f"{', '.join(ids)} in {self.zone} to NAT gateway {self.nat.nat_gateway_id} "
                f"in {self.nat_zone}; {why}"
            ),
            evidence={
                "route_table_id": t.route_table_id,
                "vpc_id": t.vpc_id,
                "subnet_ids": ids,
                "subnet_zone": self.zone,
                "nat_gateway_id": self.nat.nat_gateway_id,
                "nat_zone": self.nat_zone,
                "same_zone_nat_gateway_id": self.local.nat_gateway_id if self.local else "",
                "table_zones": sorted(self.table_zones),
            },
            remediation="\n".join(steps),
            severity=None if self.local is not None else Severity.LOW,
            discriminator=self.zone,
        )

    def reroute(self, inv: Inventory, target_word: str) -> list[str]:
        """Point the zone's subnets at a NAT gateway: in place when the table serves only them.

        target_word is a shell word: a quoted id, or "$NAT" for one made by an earlier step.
        """
        t = self.table
        if self.table_zones == {self.zone}:
            return [
                _cli(
                    t,
                    f"aws ec2 replace-route --route-table-id {q(t.route_table_id)} "
                    f"--destination-cidr-block 0.0.0.0/0 --nat-gateway-id {target_word}",
                )
            ]
        # Changing a table other zones use would send them across instead: the zone gets a
        # copy of the table with every route, so no other link is cut.
        steps = [
            note(f"# {t.route_table_id} also serves other zones: give {self.zone} its own copy."),
            _capture(
                t,
                "RTB",
                f"aws ec2 create-route-table --vpc-id {q(t.vpc_id)} "
                "--query RouteTable.RouteTableId --output text",
            ),
            _cli(
                t,
                'aws ec2 create-route --route-table-id "$RTB" '
                f"--destination-cidr-block 0.0.0.0/0 --nat-gateway-id {target_word}",
            ),
            *_copy_routes(inv, t),
        ]
        for s in sorted(self.subnets, key=lambda s: s.subnet_id):
            if s.subnet_id not in t.subnet_ids:
                cmd = 'aws ec2 associate-route-table --route-table-id "$RTB" '
                cmd += f"--subnet-id {q(s.subnet_id)}"
            else:
                # The association id is not in the scan: look it up where it is needed.
                query = (
                    f"RouteTables[0].Associations[?SubnetId=='{s.subnet_id}']"
                    ".RouteTableAssociationId"
                )
                cmd = (
                    'aws ec2 replace-route-table-association --route-table-id "$RTB" '
                    "--association-id $(aws ec2 describe-route-tables --route-table-ids "
                    f"{q(t.route_table_id)} --query {dq(query)} --output text "
                    f"--region {q(t.region)})"
                )
            steps.append(_cli(t, cmd))
        return steps

    def new_nat(self, inv: Inventory) -> list[str]:
        """Create a NAT gateway in the zone (where one can go), then reroute to it."""
        t = self.table
        steps = ["# If one NAT gateway for the VPC is a deliberate cost choice, waive this."]
        if self.nat.connectivity == "private":
            home = min(s.subnet_id for s in self.subnets)
            create = f"aws ec2 create-nat-gateway --connectivity-type private --subnet-id {q(home)}"
        else:
            public = _public_subnet(inv, t, self.zone)
            if public is None:
                return [
                    *steps,
                    note(
                        f"# Otherwise: a NAT gateway in {self.zone} needs a public subnet "
                        f"there, and {t.vpc_id} has none; create one, a NAT gateway in it "
                        f"(aws ec2 create-nat-gateway), and route these subnets to it."
                    ),
                ]
            steps.append(
                _capture(
                    t,
                    "EIP",
                    "aws ec2 allocate-address --domain vpc --query AllocationId --output text",
                )
            )
            create = f'aws ec2 create-nat-gateway --subnet-id {q(public)} --allocation-id "$EIP"'
        return [
            *steps,
            _capture(t, "NAT", create + " --query NatGateway.NatGatewayId --output text"),
            _cli(t, 'aws ec2 wait nat-gateway-available --nat-gateway-ids "$NAT"'),
            *self.reroute(inv, '"$NAT"'),
        ]


def _cli(t: RouteTable, command: str) -> str:
    return cli(command, t.region, t.owner_id)


def _capture(t: RouteTable, var: str, command: str) -> str:
    """A command whose output a shell variable keeps for the next steps."""
    return var + "=$(" + command + f" --region {q(t.region)})  # as account {note(t.owner_id)}"


# Route target type -> the create-route option that names it ("gateway" is decided by id).
_TARGET_FLAGS = {
    "nat-gateway": "--nat-gateway-id",
    "transit-gateway": "--transit-gateway-id",
    "vpc-peering-connection": "--vpc-peering-connection-id",
    "network-interface": "--network-interface-id",
    "instance": "--instance-id",
    "egress-only-internet-gateway": "--egress-only-internet-gateway-id",
    "carrier-gateway": "--carrier-gateway-id",
    "local-gateway": "--local-gateway-id",
    "core-network": "--core-network-arn",
}


def _copy_routes(inv: Inventory, t: RouteTable) -> list[str]:
    """Commands that give "$RTB" every active route of t but the local and default ones."""
    out: list[str] = []
    gateway_endpoints = {
        e.endpoint_id for e in inv.endpoints_of(t.vpc_id) if e.endpoint_type.lower() == "gateway"
    }
    for r in t.routes:
        if not r.is_active or r.target_id == "local" or r.destination == "0.0.0.0/0":
            continue
        if r.origin == "EnableVgwRoutePropagation":
            cmd = 'aws ec2 enable-vgw-route-propagation --route-table-id "$RTB" '
            cmd += f"--gateway-id {q(r.target_id)}"
        elif r.target_id in gateway_endpoints:
            # A gateway endpoint's route comes with associating the table, not create-route.
            cmd = f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {q(r.target_id)} "
            cmd += '--add-route-table-ids "$RTB"'
        else:
            flag = _TARGET_FLAGS.get(r.target_type)
            if r.target_type == "gateway":
                flag = "--vpc-endpoint-id" if r.target_id.startswith("vpce-") else "--gateway-id"
            if flag is None:
                out.append(
                    note(f"# copy by hand: {r.destination} -> {r.target_id or r.target_type}")
                )
                continue
            cmd = (
                'aws ec2 create-route --route-table-id "$RTB" '
                f"{q(destination_flag(r.destination))} {q(r.destination)} {q(flag)} "
                f"{q(r.target_id)}"
            )
        line = _cli(t, cmd)
        if line not in out:
            out.append(line)
    return out


def _public_subnet(inv: Inventory, t: RouteTable, zone: str) -> str | None:
    """A subnet of t's VPC in the zone whose own table sends 0.0.0.0/0 to an internet gateway."""
    tables = [x for x in inv.route_tables_of(t.vpc_id) if x.account_id == t.account_id]
    main = next((x for x in tables if x.is_main), None)
    explicit = {sid: x for x in tables for sid in x.subnet_ids}
    for s in sorted(inv.subnets_of(t.vpc_id), key=lambda s: s.subnet_id):
        if s.account_id != t.account_id or s.availability_zone != zone:
            continue
        own = explicit.get(s.subnet_id, main)
        if own is not None and any(
            r.destination == "0.0.0.0/0" and r.is_active and r.target_id.startswith("igw-")
            for r in own.routes
        ):
            return s.subnet_id
    return None


def _default_nat(inv: Inventory, t: RouteTable) -> NatGateway | None:
    """The available NAT gateway the table's active 0.0.0.0/0 route goes to, if it does."""
    for r in t.routes:
        if r.destination == "0.0.0.0/0" and r.is_active and r.target_type == "nat-gateway":
            nat = inv.nat_gateway(r.target_id)
            return nat if nat is not None and nat.state == "available" else None
    return None


def _one_copy_each(subnets: tuple[Subnet, ...]) -> list[Subnet]:
    """Each subnet once: the copy read in its owner's account when there is one."""
    chosen: dict[str, Subnet] = {}
    for s in subnets:
        have = chosen.get(s.subnet_id)
        if have is None or (s.account_id == s.owner_id and have.account_id != have.owner_id):
            chosen[s.subnet_id] = s
    return sorted(chosen.values(), key=lambda s: s.subnet_id)


NAT_CROSS_AZ = nat_cross_az
