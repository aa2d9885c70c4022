"""The anchor catalogue: the rules of the rule sets security reviewers already trust, as far as they
apply to the resource types this program builds or can build through its features.

Sources (the rule lists as read from each project's source):
- cdk-nag's AwsSolutions pack (`cdklabs/cdk-nag`, `src/packs/aws-solutions.ts`), ids `AwsSolutions-<suffix>`;
- Checkov's AWS checks (`bridgecrewio/checkov` 3.3.30, `checkov/terraform/checks/resource/aws/` and
  `graph_checks/aws/`), ids `CKV_AWS_<n>` / `CKV2_AWS_<n>`;
- awsguard (`pulumi/pulumi-policy-aws`, `src/*.ts`), ids `awsguard:<policy name>`.

Applicable means: a resource type the program builds (VPC, subnets, routes, NAT, security groups,
the ALB and its listeners, the bastion instance and its volumes, ECS, ECR, RDS PostgreSQL, S3, KMS,
SNS, IAM, CodeBuild, CodePipeline, CloudWatch Logs and alarms, ACM, Route 53 records) or one a
feature of the program can add (EFS volumes, NAT instances, Secrets Manager secrets, Step
Functions). Rules for services the program never builds (Redshift, Lambda, API Gateway, Aurora
MySQL, ...) are not listed.

Each entry: id -> Anchor(source, meaning, reason). `reason` is None when a policy of the pack covers
the rule (its module's `COVERS` says which); otherwise it says why the pack deliberately does not
adopt it. Data only: `docs/policy-coverage.md` is generated from this and the pack's policies, and
tests/test_policy_coverage.py fails when an id is neither covered nor explained.
"""

# ruff: noqa: E501  (a data catalogue: one reason per line reads better than wrapped strings)

from __future__ import annotations

from typing import NamedTuple


class Anchor(NamedTuple):
    source: str
    meaning: str
    reason: str | None = None


CDK_NAG = "cdk-nag AwsSolutions"
CHECKOV = "Checkov"
AWSGUARD = "awsguard"

# Reasons shared by several rules.
_NO_SSH = "the product has no SSH at all (no key pair, no ingress rule on the bastion): ec2-no-key-pair and sg-no-world-ingress refuse more"
_BASTION_CATTLE = (
    "the bastion is a disposable SSM endpoint with no data, replaced on every AMI update; protection or "
    "extra monitoring would only slow its replacement"
)
_PORT_OBSCURITY = (
    "a non-default port is obscurity, not a control: the database is only reachable from named security groups"
)
_CROSS_REGION = (
    "cross-region copies are a disaster-recovery decision outside one environment's stack (AWS Backup plans)"
)
_NO_ACCESS_LOG_BUCKET = (
    "server access logs need one more bucket per environment that nobody reads; CloudTrail data events "
    "are the audit trail for the artifact and log buckets"
)

ANCHORS: dict[str, Anchor] = {
    # --- network: VPC, subnets, routes, security groups -----------------------------------------
    "AwsSolutions-EC23": Anchor(CDK_NAG, "security group allows inbound from 0.0.0.0/0 or ::/0"),
    "AwsSolutions-EC27": Anchor(
        CDK_NAG,
        "security group has no description",
    ),
    "AwsSolutions-VPC7": Anchor(CDK_NAG, "VPC has no flow log"),
    "CKV_AWS_23": Anchor(
        CHECKOV,
        "every security group and rule has a description",
    ),
    "CKV_AWS_24": Anchor(CHECKOV, "no security group allows ingress from 0.0.0.0/0 to port 22"),
    "CKV_AWS_25": Anchor(CHECKOV, "no security group allows ingress from 0.0.0.0/0 to port 3389"),
    "CKV_AWS_260": Anchor(CHECKOV, "no security group allows ingress from 0.0.0.0/0 to port 80"),
    "CKV_AWS_277": Anchor(CHECKOV, "no security group allows ingress from 0.0.0.0/0 to all ports"),
    "CKV_AWS_382": Anchor(
        CHECKOV,
        "no security group allows egress to 0.0.0.0/0 on all ports",
        "tasks pull images and call AWS APIs and third parties through NAT; egress is narrowed per group where "
        "the destination is known (database, endpoints), an allow-list of the internet is not",
    ),
    "CKV2_AWS_5": Anchor(
        CHECKOV,
        "security groups are attached to a resource",
        "an unattached group grants nothing; groups are created with the resource that uses them",
    ),
    "CKV2_AWS_11": Anchor(CHECKOV, "every VPC has flow logging enabled"),
    "CKV2_AWS_12": Anchor(CHECKOV, "the default security group of every VPC restricts all traffic"),
    "CKV2_AWS_35": Anchor(CHECKOV, "NAT gateways (not instances) are the default route of subnets"),
    "CKV_AWS_130": Anchor(
        CHECKOV,
        "VPC subnets do not assign public IPs by default",
        "the public tier holds only the load balancer and NAT gateways (awsx maps public IPs there by design, as an internet-facing ALB needs); ec2-no-public-ip and ecs-no-public-ip refuse a public address on anything the program runs, in any subnet",
    ),
    "CKV_AWS_148": Anchor(
        CHECKOV,
        "no default VPC is provisioned",
    ),
    "CKV2_AWS_44": Anchor(
        CHECKOV,
        "route tables with VPC peering have no route to all traffic",
        "the program creates no VPC peering",
    ),
    # --- EC2: the bastion (and NAT instances) ----------------------------------------------------
    "AwsSolutions-EC26": Anchor(CDK_NAG, "EBS volume has encryption disabled"),
    "AwsSolutions-EC28": Anchor(CDK_NAG, "EC2 instance has no detailed monitoring", _BASTION_CATTLE),
    "AwsSolutions-EC29": Anchor(CDK_NAG, "EC2 instance outside an ASG has no termination protection", _BASTION_CATTLE),
    "CKV_AWS_3": Anchor(CHECKOV, "EBS volumes are encrypted"),
    "CKV_AWS_8": Anchor(CHECKOV, "instance and launch configuration EBS devices are encrypted"),
    "CKV_AWS_46": Anchor(
        CHECKOV,
        "no hard-coded secrets in EC2 user data",
        "the program writes no user data with values from config; the bastion boots the stock SSM AMI",
    ),
    "CKV_AWS_79": Anchor(CHECKOV, "instance metadata service v1 is disabled"),
    "CKV_AWS_88": Anchor(CHECKOV, "EC2 instances have no public IP"),
    "CKV_AWS_126": Anchor(CHECKOV, "EC2 instances have detailed monitoring", _BASTION_CATTLE),
    "CKV_AWS_135": Anchor(
        CHECKOV,
        "EC2 instances are EBS-optimized",
        "current instance types are EBS-optimized by default and the flag is refused on some; nothing to enforce",
    ),
    "CKV_AWS_189": Anchor(
        CHECKOV,
        "EBS volumes are encrypted with a customer managed key",
        "the bastion's root volume holds no data; encryption with the AWS managed key is required (ec2-encrypted-volumes)",
    ),
    "CKV2_AWS_41": Anchor(
        CHECKOV,
        "EC2 instances have an IAM role",
        "only the bastion is an instance and it cannot work without its SSM role; a missing role shows as an SSM failure",
    ),
    "CKV_AWS_341": Anchor(
        CHECKOV,
        "launch templates have a metadata hop limit of 1",
        "the program builds no launch template (the NAT instance and bastion are plain instances, whose hop limit ec2-imdsv2-required's instances set to 1)",
    ),
    "awsguard:ec2-instance-no-public-ip": Anchor(AWSGUARD, "EC2 instances have no public IP association"),
    "awsguard:ec2-instance-detailed-monitoring-enabled": Anchor(
        AWSGUARD, "EC2 instances have detailed monitoring", _BASTION_CATTLE
    ),
    "awsguard:encrypted-volumes": Anchor(AWSGUARD, "attached EBS volumes are encrypted"),
    "awsguard:ec2-volume-inuse": Anchor(
        AWSGUARD,
        "instances have an attached EBS volume marked delete-on-termination",
        "the bastion has only its root volume, which AWS deletes on termination by default",
    ),
    # --- ECS and ECR ------------------------------------------------------------------------------
    "AwsSolutions-ECS4": Anchor(CDK_NAG, "ECS cluster has CloudWatch Container Insights disabled"),
    "AwsSolutions-ECS7": Anchor(CDK_NAG, "task definition containers have no awslogs logging"),
    "AwsSolutions-ECR1": Anchor(CDK_NAG, "ECR repository policy allows open access (* principal)"),
    "CKV_AWS_65": Anchor(CHECKOV, "ECS clusters have container insights enabled"),
    "CKV_AWS_97": Anchor(
        CHECKOV,
        "EFS volumes in task definitions use encryption in transit",
    ),
    "CKV_AWS_223": Anchor(
        CHECKOV,
        "ECS clusters log ECS Exec sessions",
        "ECS Exec is off unless a service turns it on for debugging; Session Manager's own logging applies",
    ),
    "CKV_AWS_224": Anchor(
        CHECKOV,
        "ECS Exec logging encrypted with a CMK",
        "ECS Exec is off unless a service turns it on for debugging; Session Manager's own logging applies",
    ),
    "CKV_AWS_249": Anchor(
        CHECKOV,
        "task definitions use different execution and task roles",
    ),
    "CKV_AWS_332": Anchor(
        CHECKOV,
        "Fargate services run on the LATEST platform version",
        "the provider's default platform version is LATEST already; pinning is a user's explicit choice",
    ),
    "CKV_AWS_333": Anchor(CHECKOV, "ECS services do not assign public IPs"),
    "CKV_AWS_334": Anchor(CHECKOV, "ECS containers are not privileged"),
    "CKV_AWS_335": Anchor(CHECKOV, "task definitions do not share the host's process namespace"),
    "CKV_AWS_336": Anchor(CHECKOV, "ECS containers have a read-only root filesystem"),
    "CKV_AWS_32": Anchor(CHECKOV, "ECR repository policy is not public"),
    "CKV_AWS_51": Anchor(
        CHECKOV,
        "ECR image tags are immutable",
        "the pipeline tags each image with its commit and Pulumi deploys by digest through the image parameter; "
        "a mutable `latest` tag is what developers pull",
    ),
    "CKV_AWS_136": Anchor(
        CHECKOV,
        "ECR repositories are encrypted with KMS",
        "ECR encrypts every image at rest (AES-256) already; a KMS key per repository adds cost and cannot be "
        "changed after creation",
    ),
    "CKV_AWS_163": Anchor(CHECKOV, "ECR scans images on push"),
    # --- load balancing (load_balancing.py) -------------------------------------------------------
    "CKV2_AWS_20": Anchor(CHECKOV, "the ALB redirects HTTP requests to HTTPS"),
    "CKV_AWS_131": Anchor(CHECKOV, "the ALB drops invalid HTTP headers"),
    "awsguard:alb-http-to-https-redirection": Anchor(AWSGUARD, "HTTP listeners redirect to HTTPS"),
    "AwsSolutions-ELB2": Anchor(CDK_NAG, "ELB does not have access logs enabled"),
    "CKV_AWS_2": Anchor(CHECKOV, "the ALB listener protocol is HTTPS"),
    "CKV_AWS_91": Anchor(CHECKOV, "ELBv2 has access logging enabled"),
    "CKV_AWS_103": Anchor(CHECKOV, "the load balancer listener uses TLS 1.2 or later"),
    "CKV_AWS_150": Anchor(CHECKOV, "the load balancer has deletion protection enabled"),
    "CKV_AWS_192": Anchor(CHECKOV, "WAF blocks the Log4j2 message lookup (known bad inputs rule group)"),
    "CKV_AWS_328": Anchor(CHECKOV, "the ALB uses the defensive or strictest desync mitigation mode"),
    "CKV2_AWS_28": Anchor(CHECKOV, "a public-facing ALB is protected by WAF"),
    "CKV2_AWS_31": Anchor(CHECKOV, "a WAFv2 web ACL has a logging configuration"),
    "awsguard:elb-logging-enabled": Anchor(AWSGUARD, "load balancers have access logging enabled"),
    # --- RDS --------------------------------------------------------------------------------------
    "AwsSolutions-RDS2": Anchor(CDK_NAG, "RDS instance has storage encryption disabled"),
    "AwsSolutions-RDS10": Anchor(CDK_NAG, "RDS instance has deletion protection disabled"),
    "AwsSolutions-RDS11": Anchor(CDK_NAG, "RDS instance uses the default endpoint port", _PORT_OBSCURITY),
    "AwsSolutions-RDS13": Anchor(CDK_NAG, "RDS instance has no automated backups"),
    "AwsSolutions-RDS15": Anchor(CDK_NAG, "RDS instance or cluster has deletion protection disabled"),
    "CKV_AWS_16": Anchor(CHECKOV, "RDS data is encrypted at rest"),
    "CKV_AWS_17": Anchor(CHECKOV, "RDS is not publicly accessible"),
    "CKV_AWS_118": Anchor(
        CHECKOV,
        "RDS instances have enhanced monitoring",
        "enhanced monitoring needs its own role and costs per instance; CloudWatch metrics and alarms cover operations",
    ),
    "CKV_AWS_129": Anchor(CHECKOV, "RDS instances export their logs to CloudWatch"),
    "CKV_AWS_133": Anchor(CHECKOV, "RDS instances have a backup retention period"),
    "CKV_AWS_157": Anchor(CHECKOV, "RDS instances are Multi-AZ"),
    "CKV_AWS_161": Anchor(
        CHECKOV,
        "RDS instances have IAM authentication enabled",
        "required where a role is granted rds-db:connect (rds-iam-auth-where-connect-is-granted); a database whose "
        "services all use the managed password has no IAM user to authenticate",
    ),
    "CKV_AWS_198": Anchor(
        CHECKOV,
        "no aws_db_security_group (EC2-Classic) resources",
        "EC2-Classic is retired and pulumi-aws no longer has the resource; nothing can create one",
    ),
    "CKV_AWS_211": Anchor(
        CHECKOV,
        "RDS uses a modern CA certificate",
        "new instances get rds-ca-rsa2048-g1 by default in every region the product targets; a pin would age",
    ),
    "CKV_AWS_226": Anchor(
        CHECKOV,
        "RDS instances take minor upgrades automatically",
    ),
    "CKV_AWS_250": Anchor(
        CHECKOV,
        "PostgreSQL version not vulnerable through log_fdw",
        "the product pins only the major version, so RDS applies the fixed minors itself",
    ),
    "CKV_AWS_293": Anchor(CHECKOV, "database instances have deletion protection"),
    "CKV_AWS_353": Anchor(
        CHECKOV,
        "RDS instances have Performance Insights",
        "a paid diagnostic with its own retention; not a security control, the team turns it on when needed",
    ),
    "CKV_AWS_354": Anchor(
        CHECKOV,
        "Performance Insights encrypted with a CMK",
        "Performance Insights is off (CKV_AWS_353 not adopted); when a stack turns it on, components/database.py encrypts it with the database's own key",
    ),
    "CKV2_AWS_30": Anchor(
        CHECKOV,
        "PostgreSQL instances have query logging enabled",
        "the product logs slow statements (log_min_duration_statement) on purpose; Checkov's query logging asks for log_statement, which writes every statement, bind values included, to CloudWatch",
    ),
    "CKV2_AWS_60": Anchor(
        CHECKOV,
        "RDS instances copy tags to snapshots",
        "snapshots carry the provider's default tags through the program's provider only when taken by it; "
        "cost allocation, not security",
    ),
    "CKV2_AWS_69": Anchor(CHECKOV, "RDS instances enforce encryption in transit (rds.force_ssl)"),
    "awsguard:rds-instance-backup-enabled": Anchor(AWSGUARD, "RDS instances have backups enabled"),
    "awsguard:rds-instance-public-access-check": Anchor(AWSGUARD, "RDS instances are not publicly accessible"),
    "awsguard:rds-storage-encrypted": Anchor(AWSGUARD, "RDS instances have storage encryption"),
    # --- S3 ---------------------------------------------------------------------------------------
    "AwsSolutions-S1": Anchor(CDK_NAG, "S3 bucket has server access logs disabled", _NO_ACCESS_LOG_BUCKET),
    "AwsSolutions-S2": Anchor(CDK_NAG, "S3 bucket does not block public access"),
    "AwsSolutions-S3": Anchor(CDK_NAG, "S3 bucket has no default encryption"),
    "AwsSolutions-S10": Anchor(CDK_NAG, "S3 bucket does not require requests to use SSL"),
    "CKV_AWS_18": Anchor(CHECKOV, "S3 buckets have access logging", _NO_ACCESS_LOG_BUCKET),
    "CKV_AWS_19": Anchor(CHECKOV, "S3 data is encrypted at rest"),
    "CKV_AWS_20": Anchor(CHECKOV, "no S3 ACL allowing public READ"),
    "CKV_AWS_21": Anchor(
        CHECKOV,
        "S3 buckets have versioning",
        "log buckets expire their objects and hold append-only delivery; versioning would keep what retention deletes",
    ),
    "CKV_AWS_53": Anchor(CHECKOV, "S3 public access block: block public ACLs"),
    "CKV_AWS_54": Anchor(CHECKOV, "S3 public access block: block public policy"),
    "CKV_AWS_55": Anchor(CHECKOV, "S3 public access block: ignore public ACLs"),
    "CKV_AWS_56": Anchor(CHECKOV, "S3 public access block: restrict public buckets"),
    "CKV_AWS_57": Anchor(CHECKOV, "no S3 ACL allowing public WRITE"),
    "CKV_AWS_70": Anchor(CHECKOV, "S3 bucket policy does not allow an action to any principal"),
    "CKV_AWS_93": Anchor(
        CHECKOV,
        "S3 bucket policy does not lock out all but the root user",
        "the product's bucket policies only deny plain HTTP and grant log delivery services; none denies all principals",
    ),
    "CKV_AWS_143": Anchor(
        CHECKOV,
        "S3 buckets have object lock",
        "object lock cannot be removed and blocks the lifecycle expiry the log and artifact buckets rely on",
    ),
    "CKV_AWS_144": Anchor(CHECKOV, "S3 buckets have cross-region replication", _CROSS_REGION),
    "CKV_AWS_145": Anchor(CHECKOV, "S3 buckets are encrypted with KMS by default"),
    "CKV_AWS_300": Anchor(
        CHECKOV,
        "S3 lifecycle configurations abort incomplete multipart uploads",
    ),
    "CKV_AWS_375": Anchor(CHECKOV, "no S3 ACL grants global view (READ_ACP)"),
    "CKV2_AWS_6": Anchor(CHECKOV, "S3 buckets have a public access block"),
    "CKV2_AWS_43": Anchor(CHECKOV, "S3 buckets do not allow access to all authenticated users"),
    "CKV2_AWS_61": Anchor(
        CHECKOV,
        "S3 buckets have a lifecycle configuration",
    ),
    "CKV2_AWS_62": Anchor(
        CHECKOV,
        "S3 buckets have event notifications",
        "nothing consumes events of log or artifact buckets; a notification without a consumer is noise",
    ),
    "CKV2_AWS_65": Anchor(
        CHECKOV,
        "S3 bucket ACLs are disabled (BucketOwnerEnforced)",
    ),
    "awsguard:s3-bucket-logging-enabled": Anchor(AWSGUARD, "S3 buckets have logging", _NO_ACCESS_LOG_BUCKET),
    # --- KMS, secrets -----------------------------------------------------------------------------
    "AwsSolutions-KMS5": Anchor(CDK_NAG, "symmetric KMS key has no automatic rotation"),
    "AwsSolutions-SMG4": Anchor(
        CDK_NAG,
        "secret has no automatic rotation",
        "the only secret is the RDS-managed master password, which RDS rotates itself (every 7 days by default)",
    ),
    "CKV_AWS_7": Anchor(CHECKOV, "customer created CMKs have rotation enabled"),
    "CKV_AWS_33": Anchor(CHECKOV, "KMS key policy has no wildcard (*) principal"),
    "CKV_AWS_227": Anchor(CHECKOV, "KMS keys are enabled"),
    "CKV_AWS_149": Anchor(
        CHECKOV,
        "Secrets Manager secrets are encrypted with a CMK",
    ),
    "CKV2_AWS_57": Anchor(
        CHECKOV,
        "Secrets Manager secrets have automatic rotation",
        "the only secret is the RDS-managed master password, which RDS rotates itself (every 7 days by default)",
    ),
    "awsguard:cmk-backing-key-rotation-enabled": Anchor(AWSGUARD, "CMKs have key rotation enabled"),
    # --- SNS --------------------------------------------------------------------------------------
    "AwsSolutions-SNS2": Anchor(CDK_NAG, "SNS topic has no server-side encryption"),
    "CKV_AWS_26": Anchor(CHECKOV, "SNS topic data is encrypted"),
    "CKV_AWS_169": Anchor(CHECKOV, "SNS topic policy allows only specific principals"),
    "CKV_AWS_385": Anchor(
        CHECKOV,
        "SNS topic policy does not allow cross-account access",
    ),
    # --- IAM --------------------------------------------------------------------------------------
    "AwsSolutions-IAM4": Anchor(
        CDK_NAG,
        "IAM role uses AWS managed policies",
        "narrow AWS managed policies (the ECS task execution policy) are kept current by AWS; the admin-like ones "
        "are refused by iam-no-admin-managed-policies",
    ),
    "AwsSolutions-IAM5": Anchor(CDK_NAG, "IAM entity has wildcard permissions"),
    "CKV_AWS_40": Anchor(
        CHECKOV,
        "IAM policies are attached only to groups or roles",
        "the program creates no IAM users",
    ),
    "CKV_AWS_60": Anchor(CHECKOV, "IAM role trust allows only specific services or principals"),
    "CKV_AWS_61": Anchor(CHECKOV, "IAM role trust does not allow assume role across all services/accounts"),
    "CKV_AWS_62": Anchor(CHECKOV, "IAM policies do not allow full *:* administrative privileges"),
    "CKV_AWS_63": Anchor(CHECKOV, "IAM policies do not allow '*' as an action"),
    "CKV_AWS_274": Anchor(CHECKOV, "AdministratorAccess is not attached to roles, users or groups"),
    "CKV_AWS_286": Anchor(CHECKOV, "IAM policies do not allow privilege escalation"),
    "CKV_AWS_287": Anchor(CHECKOV, "IAM policies do not allow credentials exposure"),
    "CKV_AWS_288": Anchor(CHECKOV, "IAM policies do not allow data exfiltration"),
    "CKV_AWS_289": Anchor(CHECKOV, "IAM policies do not allow permissions management without constraints"),
    "CKV_AWS_290": Anchor(CHECKOV, "IAM policies do not allow write access without constraints"),
    "CKV_AWS_355": Anchor(CHECKOV, "no '*' resource for actions that support resource-level restrictions"),
    "CKV2_AWS_40": Anchor(CHECKOV, "IAM policies do not allow full IAM privileges"),
    "CKV2_AWS_56": Anchor(CHECKOV, "the AWS managed IAMFullAccess policy is not used"),
    "awsguard:iam-role-no-policy-management-conflicts": Anchor(
        AWSGUARD,
        "roles with managedPolicyArns/inlinePolicies are not also managed by attachments",
        "the program never sets managedPolicyArns or inlinePolicies on a role; all policies are separate resources",
    ),
    # --- CloudWatch Logs and alarms ---------------------------------------------------------------
    "CKV_AWS_66": Anchor(CHECKOV, "CloudWatch log groups specify retention"),
    "CKV_AWS_158": Anchor(
        CHECKOV,
        "CloudWatch log groups are encrypted with KMS",
    ),
    "CKV_AWS_338": Anchor(
        CHECKOV,
        "CloudWatch log groups retain logs at least a year",
    ),
    "CKV_AWS_319": Anchor(
        CHECKOV,
        "CloudWatch alarm actions are enabled",
    ),
    # --- CodeBuild and CodePipeline ---------------------------------------------------------------
    "AwsSolutions-CB3": Anchor(CDK_NAG, "CodeBuild project has privileged mode enabled"),
    "AwsSolutions-CB4": Anchor(CDK_NAG, "CodeBuild project does not use a KMS key"),
    "AwsSolutions-CB5": Anchor(
        CDK_NAG,
        "CodeBuild project does not use an AWS-managed image",
        "the program uses only CodeBuild's curated images (aws/codebuild/...); a custom image is not a feature",
    ),
    "CKV_AWS_78": Anchor(CHECKOV, "CodeBuild project encryption is not disabled"),
    "CKV_AWS_147": Anchor(CHECKOV, "CodeBuild projects are encrypted with a CMK"),
    "CKV_AWS_311": Anchor(CHECKOV, "CodeBuild S3 logs are encrypted"),
    "CKV_AWS_314": Anchor(CHECKOV, "CodeBuild projects have a logging configuration"),
    "CKV_AWS_316": Anchor(CHECKOV, "CodeBuild projects do not use privileged mode"),
    "CKV_AWS_219": Anchor(CHECKOV, "CodePipeline artifact store uses a KMS CMK"),
    # --- EFS (service volumes) --------------------------------------------------------------------
    "AwsSolutions-EFS1": Anchor(
        CDK_NAG,
        "EFS file system is not encrypted at rest",
    ),
    "CKV_AWS_42": Anchor(
        CHECKOV,
        "EFS is encrypted",
    ),
    "CKV_AWS_184": Anchor(
        CHECKOV,
        "EFS is encrypted with a customer managed key",
        "efs-encrypted requires encryption at rest; a customer managed key is the volume's choice (efs.customerManagedKey), the AWS managed aws/elasticfilesystem key otherwise, since the file system's access is already scoped by its own policy and access point",
    ),
    "CKV_AWS_329": Anchor(CHECKOV, "EFS access points enforce a root directory"),
    "CKV_AWS_330": Anchor(CHECKOV, "EFS access points enforce a user identity"),
    "awsguard:efs-encrypted": Anchor(
        AWSGUARD,
        "EFS file systems are encrypted with a KMS key",
        "asks for a kmsKeyId, like CKV_AWS_184: efs-encrypted requires encryption at rest; a customer managed key is the volume's choice (efs.customerManagedKey), the AWS managed aws/elasticfilesystem key otherwise, since the file system's access is already scoped by its own policy and access point",
    ),
    # --- Step Functions (the password users' redeploy on rotation) --------------------------------
    "AwsSolutions-SF1": Anchor(CDK_NAG, "state machine does not log ALL events to CloudWatch Logs"),
    "AwsSolutions-SF2": Anchor(
        CDK_NAG,
        "state machine has no X-Ray tracing",
        "a two-step redeploy that runs a few times a year; its execution history and logs say everything",
    ),
    "CKV_AWS_284": Anchor(
        CHECKOV,
        "state machine has X-Ray tracing",
        "a two-step redeploy that runs a few times a year; its execution history and logs say everything",
    ),
    "CKV_AWS_285": Anchor(CHECKOV, "state machine logs its execution history"),
    # --- ACM and Route 53 -------------------------------------------------------------------------
    "CKV2_AWS_71": Anchor(
        CHECKOV,
        "ACM certificates have no wildcard domain",
        "the certificate names the environment's own hosts; a wildcard is the team's choice for many services",
    ),
    "CKV_AWS_234": Anchor(
        CHECKOV,
        "ACM certificates keep certificate transparency logging",
        "the provider's default keeps CT logging on and the program never sets the preference",
    ),
    "awsguard:acm-certificate-expiration": Anchor(
        AWSGUARD,
        "ACM certificates are not about to expire",
        "needs a live AWS call at preview; the program only uses ACM-issued, DNS-validated certificates, which ACM renews",
    ),
    "CKV2_AWS_23": Anchor(
        CHECKOV,
        "Route 53 A records point at a resource of the stack",
        "records are alias records to the stack's load balancer by construction",
    ),
}
