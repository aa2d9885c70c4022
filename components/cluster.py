"""The environment's compute home: ECS cluster, Cloud Map namespace and the shared load balancer.

Every service of the environment runs in one cluster and, when public, behind one
internet-facing Application Load Balancer. The ALB's security group only opens 80/443 to
the configured sources; egress goes to each public service on its container port only, one
rule per service added through `allow_to`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.account import Account
from components.bucket import private_bucket
from components.config import ClusterConfig, LoadBalancerConfig
from components.contracts import ClusterRefs, NetworkRefs
from components.iam import allow
from components.naming import Naming
from components.waf import web_acl

# Accounts Elastic Load Balancing writes access logs from, in regions opened before August
# 2022; newer regions use the log-delivery service principal instead (AWS ELB user guide,
# "Enable access logs": bucket policy).
_ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-south-1": "718504428378",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-south-1": "635631232127",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}

_NOT_FOUND = {
    "type": "fixed-response",
    "fixed_response": {"content_type": "text/plain", "message_body": "Not Found", "status_code": "404"},
}


@dataclass(frozen=True)
class ClusterArgs:
    config: ClusterConfig
    naming: Naming
    account: Account
    network: NetworkRefs
    # Host names of the public services: each gets alias records in the hosted zone, if any.
    public_hosts: list[str] = field(default_factory=list)


class Cluster(pulumi.ComponentResource):
    """ECS cluster with Fargate capacity, a Cloud Map namespace and the shared ALB with its listeners."""

    refs: ClusterRefs  # what services, the dashboard and stacks built on this one need

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("ecs-platform:cluster:Cluster", name, None, opts)
        cfg, naming = args.config, args.naming

        cluster = aws.ecs.Cluster(
            f"{name}",
            name=naming.name("cluster", "ecs_cluster"),
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value=cfg.container_insights)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        # x86_64: the configured strategy, the cluster's default. arm64: FARGATE only, keeping the
        # default's base: Fargate Spot runs x86_64 Linux tasks only (ECS developer guide,
        # "Fargate capacity providers"). Keys as the ECS API spells them, which the SDK passes on
        # as they are and which a stack reading this one's outputs gets back the same way.
        strategies = {
            architecture: [
                {"capacityProvider": item.provider, "weight": item.weight, "base": item.base}
                for item in cfg.strategy_for(architecture)
            ]
            for architecture in ("x86_64", "arm64")
        }
        providers = aws.ecs.ClusterCapacityProviders(
            f"{name}",
            cluster_name=cluster.name,
            # Both are associated so a service may override the default strategy.
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=strategies["x86_64"],
            opts=pulumi.ResourceOptions(parent=cluster),
        )
        # Services name the cluster through these outputs, which carry the association: a
        # service is created after its capacity providers are associated and deleted before
        # they are removed (ECS refuses a strategy naming a provider the cluster lacks).
        cluster_name = pulumi.Output.all(cluster.name, providers.id).apply(lambda v: v[0])
        cluster_arn = pulumi.Output.all(cluster.arn, providers.id).apply(lambda v: v[0])

        namespace_name = cfg.namespace or f"{naming.env}.internal"
        namespace = aws.servicediscovery.PrivateDnsNamespace(
            f"{name}-namespace",
            name=namespace_name,
            description=f"Service discovery for {naming.name('cluster')}",
            vpc=args.network.vpc_id,
            opts=pulumi.ResourceOptions(parent=self),
        )

        alb, listener, scheme, alb_security_group = self._load_balancer(name, args, cfg.load_balancer)
        self._alb_security_group_id = alb_security_group.id
        self.refs = ClusterRefs(
            cluster_name=cluster_name,
            cluster_arn=cluster_arn,
            capacity_provider_strategies=strategies,
            namespace_id=namespace.id,
            namespace_name=namespace_name,
            listener_arn=listener.arn,
            url_scheme=scheme,
            alb_arn_suffix=alb.arn_suffix,
            alb_dns_name=alb.dns_name,
            alb_security_group_id=alb_security_group.id,
        )
        self.register_outputs(
            {
                "clusterName": cluster_name,
                "clusterArn": cluster_arn,
                "namespaceId": namespace.id,
                "albDnsName": alb.dns_name,
                "listenerArn": listener.arn,
            }
        )

    def allow_to(self, name: str, security_group: aws.ec2.SecurityGroup, port: int) -> aws.vpc.SecurityGroupEgressRule:
        """Lets the load balancer reach one service's tasks (`security_group`) on its container `port`.

        One egress rule in the ALB's group, named and parented after the service it opens the
        way to: it goes when that service goes, and keeps the name and place it had when
        services added it themselves (a new URN would replace it, and AWS refuses the
        replacement's duplicate rule while the old one exists).
        """
        return aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-{name}",
            security_group_id=self._alb_security_group_id,
            description=f"To service {name} on its container port",
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            referenced_security_group_id=security_group.id,
            opts=pulumi.ResourceOptions(parent=security_group),
        )

    def _load_balancer(
        self, name: str, args: ClusterArgs, cfg: LoadBalancerConfig
    ) -> tuple[aws.lb.LoadBalancer, aws.lb.Listener, str, aws.ec2.SecurityGroup]:
        """The shared ALB, its security group and listeners; returns them with the scheme service URLs use."""
        naming = args.naming
        certificate_arn = self._certificate(name, cfg) if cfg.certificate else None
        scheme = "https" if certificate_arn else "http"

        sg = aws.ec2.SecurityGroup(
            f"{name}-alb",
            name_prefix=naming.prefix("alb", "security_group"),
            description="Shared load balancer: HTTP(S) from the configured sources, out to services only",
            vpc_id=args.network.vpc_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        ports = {"http": 80, "https": 443} if certificate_arn else {"http": 80}
        for label, port in ports.items():
            for cidr in cfg.ingress_cidrs:
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-{label}-{str(cidr).replace('/', '-')}",
                    security_group_id=sg.id,
                    description=f"{label.upper()} from {cidr}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=str(cidr),
                    opts=pulumi.ResourceOptions(parent=sg),
                )
            for prefix_list in cfg.ingress_prefix_lists:
                aws.vpc.SecurityGroupIngressRule(
                    f"{name}-alb-{label}-{prefix_list}",
                    security_group_id=sg.id,
                    description=f"{label.upper()} from {prefix_list}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    prefix_list_id=prefix_list,
                    opts=pulumi.ResourceOptions(parent=sg),
                )

        access_logs, logs_ready = self._access_log_bucket(name, args, cfg) if cfg.access_logs.enabled else (None, None)
        alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=naming.name("alb", "alb"),
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=args.network.public_subnet_ids,
            security_groups=[sg.id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=cfg.deletion_protection,
            idle_timeout=cfg.idle_timeout,
            enable_http2=True,
            desync_mitigation_mode="defensive",
            access_logs=access_logs,
            # The pack's alb-https reads this mark: plain HTTP here is a decision of the stack, not an oversight.
            tags={"HttpOnly": "true"} if cfg.http_only else None,
            # The ALB checks that it can write when logging is switched on: policy and encryption first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=logs_ready),
        )

        if cfg.waf.enabled:
            web_acl(name, cfg.waf, naming=naming, account=args.account, load_balancer=alb, parent=self)

        if certificate_arn:
            aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[
                    {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}
                ],
                opts=pulumi.ResourceOptions(parent=alb),
            )
            listener = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=cfg.ssl_policy,
                certificate_arn=certificate_arn,
                default_actions=[_NOT_FOUND],
                opts=pulumi.ResourceOptions(parent=alb),
            )
        else:
            listener = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[_NOT_FOUND],
                opts=pulumi.ResourceOptions(parent=alb),
            )
        if cfg.hosted_zone:
            for host in sorted(set(args.public_hosts)):
                # AAAA answers once the ALB is dualstack (needs IPv6 subnets); until then it is
                # empty, and having it means no DNS change when IPv6 arrives.
                for record_type in ("A", "AAAA"):
                    aws.route53.Record(
                        f"{name}-{host}-{record_type.lower()}",
                        zone_id=cfg.hosted_zone.id,
                        name=host,
                        type=record_type,
                        aliases=[{"name": alb.dns_name, "zone_id": alb.zone_id, "evaluate_target_health": True}],
                        opts=pulumi.ResourceOptions(parent=alb),
                    )
        return alb, listener, scheme, sg

    def _certificate(self, name: str, cfg: LoadBalancerConfig) -> pulumi.Input[str]:
        """The configured certificate ARN, or one requested here and validated by DNS in the hosted zone."""
        cert_cfg, zone = cfg.certificate, cfg.hosted_zone
        assert cert_cfg is not None
        if cert_cfg.arn:
            return cert_cfg.arn
        assert zone is not None and cert_cfg.domain_name is not None
        cert = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=cert_cfg.domain_name,
            subject_alternative_names=cert_cfg.alternative_names,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            opts=pulumi.ResourceOptions(parent=self),
        )
        records = []
        # `*.example.com` and `example.com` share one validation record: write it once.
        for domain in dict.fromkeys(d.removeprefix("*.") for d in cert_cfg.domains()):
            option = cert.domain_validation_options.apply(
                lambda options, d=domain: next(o for o in options if o.domain_name.removeprefix("*.") == d)
            )
            records.append(
                aws.route53.Record(
                    f"{name}-validation-{domain}",
                    zone_id=zone.id,
                    name=option.resource_record_name,
                    type=option.resource_record_type,
                    records=[option.resource_record_value],
                    ttl=300,
                    allow_overwrite=True,
                    opts=pulumi.ResourceOptions(parent=cert),
                )
            )
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate",
            certificate_arn=cert.arn,
            validation_record_fqdns=[r.fqdn for r in records],
            opts=pulumi.ResourceOptions(parent=cert),
        )
        return validation.certificate_arn

    def _access_log_bucket(
        self, name: str, args: ClusterArgs, cfg: LoadBalancerConfig
    ) -> tuple[dict, list[pulumi.Resource]]:
        """An S3 bucket for ALB access logs: SSE-S3 (the only encryption ALB delivery supports), private, TLS only.

        Returns the ALB's access-log setting and what the ALB must wait for: it checks that it
        can write when logging is switched on.
        """
        naming, account = args.naming, args.account
        elb_account = _ELB_LOG_ACCOUNTS.get(account.region)
        writer = (
            {"AWS": account.arn("iam", "root", region="", account=elb_account)}
            if elb_account
            else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
        )
        bucket, ready = private_bucket(
            f"{name}-alb-logs",
            bucket_prefix=naming.prefix("alb-logs", "s3_bucket_prefix").lower(),
            # "The only server-side encryption option that's supported is Amazon S3-managed keys
            # (SSE-S3)": "Enable access logs for your Application Load Balancer", Elastic Load
            # Balancing User Guide, bucket requirements.
            sse_s3_reason="Application Load Balancer access log delivery supports SSE-S3 only",
            lifecycle_rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": cfg.access_logs.expire_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            allow=lambda arn: [
                allow("LoadBalancerWritesLogs", "s3:PutObject", f"{arn}/AWSLogs/{account.id}/*", principal=writer)
            ],
            parent=self,
        )
        return {"bucket": bucket.bucket, "enabled": True}, ready
