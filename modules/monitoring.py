"""monitoring layer: the KMS key every log group is encrypted with, the alert topic, alarms on the
resources whose names follow from the settings, the four dashboards, the cost budget and X-Ray sampling.

Alarms that need a generated id (HTTP API, load balancer) live next to their resources and publish to
the same ``alerts`` topic.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from cdktn_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetNotification
from cdktn_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktn_provider_aws.xray_sampling_rule import XraySamplingRule

from environments import EnvironmentSettings
from modules._cdk import Construct
from modules.common import (
    API_FUNCTION_SUFFIX,
    CACHE_SUFFIX,
    FILES_FUNCTION_SUFFIX,
    POSTGRES_SUFFIX,
    SECRET_ROTATION_FUNCTION_SUFFIX,
    SYNC_SUFFIX,
    AlarmSpec,
    CustomerManagedKey,
    EncryptedTopic,
    KeyGrant,
    LayerStack,
    Statement,
    metric_alarm,
)

#: Who publishes to the alert topic: CloudWatch alarms and AWS Budgets.
ALERT_PUBLISHERS = ("cloudwatch.amazonaws.com", "budgets.amazonaws.com")
#: Budget alerts: (percent of the limit, ACTUAL or FORECASTED spend).
BUDGET_ALERTS = ((80, "ACTUAL"), (100, "FORECASTED"))
#: CPU and memory of the sync service's tasks (autoscaling targets 60% CPU, so 80% means it can't keep up).
SERVICE_UTILISATION_PERCENT = 80


def logs_key_grant(settings: EnvironmentSettings, region: str | None = None) -> KeyGrant:
    """CloudWatch Logs may use the key, and only for log groups of this account and region (the
    environment's unless ``region`` names another, as for the edge layer's us-east-1 log groups).
    """
    region = region or settings.region
    return KeyGrant(
        sid="CloudWatchLogsEncryptLogGroups",
        principal={"Service": f"logs.{region}.amazonaws.com"},
        actions=("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
        condition={
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:aws:logs:{region}:{settings.account_id}:log-group:*"
                )
            }
        },
    )


def resource_alarms(settings: EnvironmentSettings) -> list[AlarmSpec]:
    """Alarms on resources whose names follow from the settings (database, cache, functions, service).

    The HTTP API and load balancer alarms need their generated ids and live in the api and sync stacks.
    """
    config = settings.monitoring
    prefix = settings.prefix
    database = {"DBInstanceIdentifier": f"{prefix}-{POSTGRES_SUFFIX}"}
    service = {"ClusterName": f"{prefix}-{SYNC_SUFFIX}", "ServiceName": f"{prefix}-{SYNC_SUFFIX}"}
    max_connections = settings.database.max_connections
    specs = [
        AlarmSpec(
            name=f"{prefix}-db-connections",
            namespace="AWS/RDS",
            metric="DatabaseConnections",
            dimensions=database,
            statistic="Maximum",
            threshold=max_connections * config.db_connections_alarm_percent // 100,
            description=f"Database connections above {config.db_connections_alarm_percent}% of "
            f"max_connections ({max_connections})",
        ),
        AlarmSpec(
            name=f"{prefix}-db-cpu",
            namespace="AWS/RDS",
            metric="CPUUtilization",
            dimensions=database,
            threshold=config.rds_cpu_alarm_percent,
            description="Database CPU high",
        ),
        AlarmSpec(
            name=f"{prefix}-db-free-storage",
            namespace="AWS/RDS",
            metric="FreeStorageSpace",
            dimensions=database,
            statistic="Minimum",
            comparison="LessThanThreshold",
            threshold=config.rds_free_storage_alarm_gb * 2**30,
            description=f"Database free storage below {config.rds_free_storage_alarm_gb} GiB",
        ),
    ]
    # (alarm name, namespace, metric, dimensions, threshold %): utilisation of the service and cache nodes.
    utilisation = [
        (
            f"{SYNC_SUFFIX}-{kind}",
            "AWS/ECS",
            f"{kind.capitalize()}Utilization",
            service,
            SERVICE_UTILISATION_PERCENT,
        )
        for kind in ("cpu", "memory")
    ]
    for node in range(1, settings.cache.node_count + 1):
        member = {"CacheClusterId": f"{prefix}-{CACHE_SUFFIX}-{node:03d}"}
        utilisation += [
            (
                f"cache-{node:03d}-memory",
                "AWS/ElastiCache",
                "DatabaseMemoryUsagePercentage",
                member,
                config.cache_memory_alarm_percent,
            ),
            (
                f"cache-{node:03d}-cpu",
                "AWS/ElastiCache",
                "EngineCPUUtilization",
                member,
                config.cache_cpu_alarm_percent,
            ),
        ]
    specs += [
        AlarmSpec(
            name=f"{prefix}-{name}",
            namespace=namespace,
            metric=metric,
            dimensions=dimensions,
            threshold=threshold,
            description=f"{metric} above {threshold}%",
        )
        for name, namespace, metric, dimensions, threshold in utilisation
    ]
    for function in (API_FUNCTION_SUFFIX, FILES_FUNCTION_SUFFIX, SECRET_ROTATION_FUNCTION_SUFFIX):
        dimensions = {"FunctionName": f"{prefix}-{function}"}
        specs += [
            AlarmSpec(
                name=f"{prefix}-{function}-{metric.lower()}",
                namespace="AWS/Lambda",
                metric=metric,
                dimensions=dimensions,
                statistic="Sum",
                threshold=0,
                description=f"{function} function {metric.lower()}",
            )
            for metric in ("Errors", "Throttles")
        ]
    return specs


def metric_widget(title: str, region: str, metrics: list[list[Any]], *, stat: str = "Average") -> Statement:
    return {
        "type": "metric",
        "width": 12,
        "height": 6,
        "properties": {"title": title, "region": region, "metrics": metrics, "stat": stat, "period": 300},
    }


def search_widget(title: str, region: str, expression: str) -> Statement:
    """Metrics found by a SEARCH expression, for resources whose ids this stack can't know."""
    return metric_widget(title, region, [[{"expression": expression, "id": "found", "label": title}]])


def dashboards(settings: EnvironmentSettings) -> dict[str, list[Statement]]:
    """The seed's four dashboards: API performance, database, WebSocket connections, cost."""
    region = settings.region
    prefix = settings.prefix
    api = f"{prefix}-{API_FUNCTION_SUFFIX}"
    database = f"{prefix}-{POSTGRES_SUFFIX}"
    sync = f"{prefix}-{SYNC_SUFFIX}"
    return {
        "api": [
            search_widget(
                "API latency",
                region,
                "SEARCH('{AWS/ApiGateway,ApiId,Stage} MetricName=\"Latency\"', 'Average', 300)",
            ),
            search_widget(
                "API 5xx", region, "SEARCH('{AWS/ApiGateway,ApiId,Stage} MetricName=\"5xx\"', 'Sum', 300)"
            ),
            metric_widget("Lambda duration", region, [["AWS/Lambda", "Duration", "FunctionName", api]]),
            metric_widget(
                "Lambda errors and throttles",
                region,
                [
                    ["AWS/Lambda", "Errors", "FunctionName", api],
                    ["AWS/Lambda", "Throttles", "FunctionName", api],
                ],
                stat="Sum",
            ),
        ],
        "database": [
            metric_widget(
                f"{metric} ({database})", region, [["AWS/RDS", metric, "DBInstanceIdentifier", database]]
            )
            for metric in ("DatabaseConnections", "CPUUtilization", "FreeStorageSpace", "ReadLatency")
        ],
        "websocket": [
            search_widget(
                "Active connections (ALB)",
                region,
                "SEARCH('{AWS/ApplicationELB,LoadBalancer} "
                f"MetricName=\"ActiveConnectionCount\" {sync}', 'Sum', 300)",
            ),
            metric_widget(
                "Sync tasks CPU and memory",
                region,
                [
                    ["AWS/ECS", "CPUUtilization", "ClusterName", sync, "ServiceName", sync],
                    ["AWS/ECS", "MemoryUtilization", "ClusterName", sync, "ServiceName", sync],
                ],
            ),
        ],
        # Billing metrics exist only in us-east-1.
        "cost": [
            metric_widget(
                "Estimated charges (USD)",
                "us-east-1",
                [["AWS/Billing", "EstimatedCharges", "Currency", "USD"]],
                stat="Maximum",
            )
        ],
    }


class CostBudget(Construct):
    """A monthly cost budget alerting the topic at 80% of actual spend and at 100% of the forecast."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, limit_usd: int, topic_arn: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.budget = BudgetsBudget(
            self,
            "budget",
            name=name,
            budget_type="COST",
            limit_amount=str(limit_usd),
            limit_unit="USD",
            time_unit="MONTHLY",
            notification=[
                BudgetsBudgetNotification(
                    comparison_operator="GREATER_THAN",
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                    notification_type=kind,
                    subscriber_sns_topic_arns=[topic_arn],
                )
                for threshold, kind in BUDGET_ALERTS
            ],
        )


class MonitoringStack(LayerStack):
    layer: ClassVar[str] = "monitoring"

    def __init__(self, scope: Construct, *, settings: EnvironmentSettings) -> None:
        super().__init__(scope, settings=settings)
        self.logs_key = CustomerManagedKey(
            self,
            "logs-key",
            settings=settings,
            alias=self.name("logs"),
            description=f"{settings.prefix} CloudWatch log groups",
            grants=[logs_key_grant(settings)],
        )
        self.alerts = EncryptedTopic(
            self,
            "alerts",
            settings=settings,
            name=self.name("alerts"),
            publishers=ALERT_PUBLISHERS,
        )
        self.alarms = [
            metric_alarm(
                self,
                f"alarm-{spec.name.removeprefix(settings.prefix + '-')}",
                spec=spec,
                topic_arn=self.alerts.arn,
            )
            for spec in resource_alarms(settings)
        ]
        self.dashboards = {
            name: CloudwatchDashboard(
                self,
                f"dashboard-{name}",
                dashboard_name=self.name(name),
                dashboard_body=json.dumps({"widgets": widgets}, sort_keys=True),
            )
            for name, widgets in dashboards(settings).items()
        }
        self.budget = CostBudget(
            self,
            "budget",
            name=self.name("monthly-cost"),
            limit_usd=settings.monitoring.monthly_budget_usd,
            topic_arn=self.alerts.arn,
        )
        self.sampling_rule = XraySamplingRule(
            self,
            "xray-sampling",
            rule_name=self.name("default"),
            priority=1000,
            version=1,
            reservoir_size=settings.monitoring.xray_reservoir_per_second,
            fixed_rate=settings.monitoring.xray_sampling_rate,
            host="*",
            http_method="*",
            url_path="*",
            service_name="*",
            service_type="*",
            resource_arn="*",
        )
