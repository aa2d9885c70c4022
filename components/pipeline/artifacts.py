"""The pipeline's artifact store: a private, KMS-encrypted, versioned, TLS-only bucket whose artifacts expire."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.bucket import private_bucket
from components.config import PipelineConfig
from components.kms import STORAGE_KEY, encryption_key
from components.naming import Naming


def artifact_store(
    parent: pulumi.Resource, name: str, cfg: PipelineConfig, naming: Naming, service: str
) -> tuple[aws.kms.Key, aws.s3.Bucket]:
    """The key and the bucket of the pipeline that delivers `service`."""
    key = encryption_key(
        name,
        alias=naming.name(f"{service}-pipeline", "kms_alias"),
        description=f"Pipeline artifacts of {naming.name(service)}",
        parent=parent,
        **STORAGE_KEY,
    )
    bucket, _ = private_bucket(
        f"{name}-artifacts",
        bucket_prefix=naming.prefix(f"{service}-artifacts", "s3_bucket_prefix").lower(),
        # Artifacts are rebuilt from source at will; a versioned bucket full of them must not
        # block `pulumi destroy` of an environment.
        force_destroy=True,
        versioned=True,
        kms_key=key,
        lifecycle_rules=[
            {
                "id": "expire-old-artifacts",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": cfg.artifact_expiry_days},
                "noncurrent_version_expiration": {"noncurrent_days": 1},
                "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
            },
            {
                "id": "remove-expired-delete-markers",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"expired_object_delete_marker": True},
            },
        ],
        parent=parent,
    )
    return key, bucket
