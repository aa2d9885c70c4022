"""Where an environment deploys: the AWS account, its partition and the region, for ARNs and trust conditions.

The program looks the account up once (`Account.lookup`) and hands it to every component: a
blocking invoke first drains every pending registration, so one lookup per component would
make large environments quadratic.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class Account:
    id: str
    partition: str  # "aws", "aws-cn" or "aws-us-gov": ARNs must not assume "aws"
    region: str

    @classmethod
    def lookup(cls, region: str, provider: pulumi.ProviderResource) -> Account:
        """The account of the credentials `provider` uses (STS GetCallerIdentity), in `region`."""
        identity = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider))
        return cls(id=identity.account_id, partition=identity.arn.split(":")[1], region=region)

    def arn(self, service: str, resource: str, *, region: str | None = None, account: str | None = None) -> str:
        """`arn:<partition>:<service>:<region>:<account>:<resource>`, in this region and account unless given.

        Global services leave the region empty (`region=""`: IAM, S3); S3 and AWS-managed IAM
        policies name no account of ours (`account=""`, `account="aws"`).
        """
        region = self.region if region is None else region
        account = self.id if account is None else account
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"
