"""network layer: VPC, public and private subnets per AZ, NAT, flow logs, VPC endpoints, and the
security groups the application tiers will run in (so the data layer can admit exactly them).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import ClassVar

from cdktn_provider_aws.default_security_group import DefaultSecurityGroup
from cdktn_provider_aws.eip import Eip
from cdktn_provider_aws.flow_log import FlowLog
from cdktn_provider_aws.internet_gateway import InternetGateway
from cdktn_provider_aws.nat_gateway import NatGateway
from cdktn_provider_aws.route import Route
from cdktn_provider_aws.route_table import RouteTable
from cdktn_provider_aws.route_table_association import RouteTableAssociation
from cdktn_provider_aws.subnet import Subnet
from cdktn_provider_aws.vpc import Vpc
from cdktn_provider_aws.vpc_endpoint import VpcEndpoint

from environments import EnvironmentSettings
from modules._cdk import Construct
from modules.common import LayerStack, SecurityGroupWithRules, ServiceRole, encrypted_log_group
from modules.monitoring import MonitoringStack

ANYWHERE = "0.0.0.0/0"
HTTPS = 443
POSTGRES = 5432
REDIS = 6379
#: The application tiers that get a security group here; the data layer admits exactly these.
APPLICATION_TIERS = ("api", "sync")


class TwoTierVpc(Construct):
    """A VPC with one public and one private subnet per AZ, an internet gateway, NAT (one per AZ or a
    single shared one), a locked-down default security group and flow logs of all traffic.

    Public subnets never assign public IPs on launch: only the NAT gateways (and later the load balancer)
    own public addresses.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EnvironmentSettings,
        name: str,
        cidr: ipaddress.IPv4Network,
        availability_zones: Sequence[str],
        subnet_prefix_length: int,
        nat_gateway_per_az: bool,
        flow_log_retention_days: int,
        logs_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cidr = str(cidr)
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=self.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
        )
        self.default_security_group = DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id)
        self.internet_gateway = InternetGateway(self, "igw", vpc_id=self.vpc.id, tags={"Name": name})

        blocks = list(cidr.subnets(new_prefix=subnet_prefix_length))
        zone_count = len(availability_zones)
        self.public_subnets = [
            self._subnet(f"public-{zone}", zone, blocks[index], f"{name}-public-{zone}")
            for index, zone in enumerate(availability_zones)
        ]
        self.private_subnets = [
            self._subnet(f"private-{zone}", zone, blocks[zone_count + index], f"{name}-private-{zone}")
            for index, zone in enumerate(availability_zones)
        ]

        self.public_route_table = RouteTable(
            self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"}
        )
        Route(
            self,
            "public-default-route",
            route_table_id=self.public_route_table.id,
            destination_cidr_block=ANYWHERE,
            gateway_id=self.internet_gateway.id,
        )
        for subnet in self.public_subnets:
            RouteTableAssociation(
                self, f"{subnet.node.id}-rta", subnet_id=subnet.id, route_table_id=self.public_route_table.id
            )

        nat_zones = availability_zones if nat_gateway_per_az else availability_zones[:1]
        self.nat_gateways = []
        for index, zone in enumerate(nat_zones):
            address = Eip(self, f"nat-eip-{zone}", domain="vpc", tags={"Name": f"{name}-nat-{zone}"})
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat-{zone}",
                    allocation_id=address.id,
                    subnet_id=self.public_subnets[index].id,
                    tags={"Name": f"{name}-nat-{zone}"},
                    depends_on=[self.internet_gateway],
                )
            )
        self.private_route_tables = []
        for index, (zone, subnet) in enumerate(zip(availability_zones, self.private_subnets, strict=True)):
            table = RouteTable(
                self, f"private-rt-{zone}", vpc_id=self.vpc.id, tags={"Name": f"{name}-private-{zone}"}
            )
            nat = self.nat_gateways[index if nat_gateway_per_az else 0]
            Route(
                self,
                f"private-default-route-{zone}",
                route_table_id=table.id,
                destination_cidr_block=ANYWHERE,
                nat_gateway_id=nat.id,
            )
            RouteTableAssociation(self, f"private-{zone}-rta", subnet_id=subnet.id, route_table_id=table.id)
            self.private_route_tables.append(table)

        self.flow_log_group = encrypted_log_group(
            self,
            "flow-log-group",
            name=f"/aws/vpc/flow-logs/{name}",
            retention_days=flow_log_retention_days,
            kms_key_arn=logs_key_arn,
        )
        self.flow_log_role = ServiceRole(
            self,
            "flow-log-role",
            settings=settings,
            name=f"{name}-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            statements=[
                {
                    "Sid": "WriteFlowLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [self.flow_log_group.arn, f"{self.flow_log_group.arn}:*"],
                }
            ],
        )
        self.flow_log = FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=self.flow_log_role.arn,
            max_aggregation_interval=60,
        )

    def _subnet(self, construct_id: str, zone: str, block: ipaddress.IPv4Network, name: str) -> Subnet:
        return Subnet(
            self,
            construct_id,
            vpc_id=self.vpc.id,
            availability_zone=zone,
            cidr_block=str(block),
            map_public_ip_on_launch=False,
            tags={"Name": name},
        )


class VpcEndpoints(Construct):
    """An S3 gateway endpoint on the private route tables and private-DNS interface endpoints (reachable
    over HTTPS from inside the VPC only), so AWS API traffic stays off the NAT gateways.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: TwoTierVpc,
        name: str,
        region: str,
        interface_services: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = SecurityGroupWithRules(
            self,
            "endpoints-sg",
            name=f"{name}-vpc-endpoints",
            description="Interface VPC endpoints: HTTPS from inside the VPC",
            vpc_id=network.vpc.id,
        )
        self.security_group.allow_from_cidr(
            "https-from-vpc", cidr=network.cidr, port=HTTPS, description="HTTPS from the VPC"
        )
        self.s3_gateway = VpcEndpoint(
            self,
            "s3",
            vpc_id=network.vpc.id,
            service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in network.private_route_tables],
            tags={"Name": f"{name}-s3"},
        )
        self.interface_endpoints = {
            service: VpcEndpoint(
                self,
                f"endpoint-{service.replace('.', '-')}",
                vpc_id=network.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[subnet.id for subnet in network.private_subnets],
                security_group_ids=[self.security_group.id],
                tags={"Name": f"{name}-{service}"},
            )
            for service in interface_services
        }


def application_security_group(
    scope: Construct, tier: str, *, name: str, vpc_cidr: str, vpc_id: str
) -> SecurityGroupWithRules:
    """The group an application tier runs in: HTTPS out (AWS APIs, identity providers) and the database
    and cache ports inside the VPC; no ingress here (the load balancer layer adds its own).
    """
    group = SecurityGroupWithRules(
        scope, f"{tier}-sg", name=f"{name}-{tier}", description=f"MDReader {tier} tier", vpc_id=vpc_id
    )
    group.allow_to_cidr(
        "https-out", cidr=ANYWHERE, port=HTTPS, description="HTTPS to AWS APIs and the internet"
    )
    group.allow_to_cidr("postgres-out", cidr=vpc_cidr, port=POSTGRES, description="PostgreSQL inside the VPC")
    group.allow_to_cidr("redis-out", cidr=vpc_cidr, port=REDIS, description="Redis inside the VPC")
    return group


class NetworkStack(LayerStack):
    layer: ClassVar[str] = "network"

    def __init__(
        self, scope: Construct, *, settings: EnvironmentSettings, monitoring: MonitoringStack
    ) -> None:
        super().__init__(scope, settings=settings)
        network = settings.network
        self.network = TwoTierVpc(
            self,
            "vpc",
            settings=settings,
            name=settings.prefix,
            cidr=network.vpc_cidr,
            availability_zones=settings.availability_zones,
            subnet_prefix_length=network.subnet_prefix_length,
            nat_gateway_per_az=network.nat_gateway_per_az,
            flow_log_retention_days=network.flow_log_retention_days,
            logs_key_arn=monitoring.logs_key.arn,
        )
        self.endpoints = VpcEndpoints(
            self,
            "endpoints",
            network=self.network,
            name=settings.prefix,
            region=settings.region,
            interface_services=network.interface_endpoints,
        )
        self.application_security_groups = {
            tier: application_security_group(
                self, tier, name=settings.prefix, vpc_cidr=self.network.cidr, vpc_id=self.network.vpc.id
            )
            for tier in APPLICATION_TIERS
        }
