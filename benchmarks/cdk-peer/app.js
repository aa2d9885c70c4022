// The ecs-platform environments (dev and prod) written with the AWS CDK, to time its synth against
// `python3 tasks.py plan`: the same shape as Pulumi.dev.yaml / Pulumi.prod.yaml (VPC with public,
// private and isolated subnets and flow logs; ECS cluster with Fargate capacity providers and a shared
// ALB; per service an ECR repository, task definition, log group, Fargate service, listener rule or
// Cloud Map name, autoscaling, alarms and a CodePipeline with a CodeBuild build; RDS PostgreSQL with a
// managed secret; an SSM-only bastion; an SNS alarm topic). Plain JavaScript, no TypeScript compile.
//
//   npm ci && node app.js           synthesizes both stacks into cdk.out/ (no AWS account needed)
"use strict";
const cdk = require("aws-cdk-lib");
const { aws_ec2: ec2, aws_ecs: ecs, aws_ecr: ecr, aws_elasticloadbalancingv2: elbv2, aws_rds: rds,
  aws_logs: logs, aws_iam: iam, aws_kms: kms, aws_s3: s3, aws_sns: sns, aws_cloudwatch: cloudwatch,
  aws_codebuild: codebuild, aws_codepipeline: codepipeline, aws_codepipeline_actions: actions,
  aws_servicediscovery: sd, aws_certificatemanager: acm, aws_route53: route53 } = cdk;

const ENVIRONMENTS = {
  dev: {
    cidr: "10.10.0.0/16", azs: 2, natGateways: 1, flowLogTraffic: ec2.FlowLogTrafficType.REJECT,
    db: { instanceType: "t4g.micro", storage: 20, maxStorage: 50, multiAz: false, backupDays: 1, protect: false },
    insights: false, spotOnly: true, https: false,
    services: [
      { name: "web", public: true, image: "public.ecr.aws/nginx/nginx:1.27-alpine", port: 80, cpu: 256, memory: 512, paths: ["/*"] },
      { name: "api", public: false, port: 8080, cpu: 256, memory: 512, arm64: true, pipeline: { repo: "my-org/api", approval: false } },
    ],
  },
  prod: {
    cidr: "10.20.0.0/16", azs: 3, natGateways: 3, flowLogTraffic: ec2.FlowLogTrafficType.ALL, flowLogsToS3: true,
    endpoints: ["ECR", "ECR_DOCKER", "CLOUDWATCH_LOGS", "SECRETS_MANAGER", "SSM"],
    db: { instanceType: "m7g.large", storage: 100, maxStorage: 500, multiAz: true, backupDays: 14, protect: true },
    insights: true, spotOnly: false, https: true,
    services: [
      { name: "web", public: true, port: 8080, cpu: 512, memory: 1024, hosts: ["www.example.com"], minTasks: 2, maxTasks: 8, pipeline: { repo: "my-org/web", approval: true } },
      { name: "api", public: false, port: 8080, cpu: 512, memory: 1024, arm64: true, desired: 2, pipeline: { repo: "my-org/api", approval: true } },
    ],
  },
};

class Environment extends cdk.Stack {
  constructor(scope, id, env, props) {
    super(scope, id, props);
    const name = `ecs-platform-${id}`;
    const key = new kms.Key(this, "Key", { enableKeyRotation: true });
    const vpc = new ec2.Vpc(this, "Vpc", {
      ipAddresses: ec2.IpAddresses.cidr(env.cidr), maxAzs: env.azs, natGateways: env.natGateways,
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: "isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    if (env.flowLogsToS3) {
      const bucket = new s3.Bucket(this, "FlowLogs", { encryption: s3.BucketEncryption.S3_MANAGED, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, enforceSSL: true });
      vpc.addFlowLog("FlowLog", { destination: ec2.FlowLogDestination.toS3(bucket), trafficType: env.flowLogTraffic });
    } else {
      const group = new logs.LogGroup(this, "FlowLogGroup", { retention: logs.RetentionDays.ONE_MONTH, encryptionKey: key });
      vpc.addFlowLog("FlowLog", { destination: ec2.FlowLogDestination.toCloudWatchLogs(group), trafficType: env.flowLogTraffic });
    }
    for (const endpoint of env.endpoints || []) {
      vpc.addInterfaceEndpoint(endpoint, { service: ec2.InterfaceVpcEndpointAwsService[endpoint], privateDnsEnabled: true });
    }
    const topic = new sns.Topic(this, "Alarms", { masterKey: key });

    const cluster = new ecs.Cluster(this, "Cluster", {
      vpc, enableFargateCapacityProviders: true,
      containerInsightsV2: env.insights ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
      defaultCloudMapNamespace: { name: `${id}.internal`, vpc },
    });
    const albSg = new ec2.SecurityGroup(this, "AlbSg", { vpc, allowAllOutbound: false });
    const alb = new elbv2.ApplicationLoadBalancer(this, "Alb", { vpc, internetFacing: true, securityGroup: albSg, dropInvalidHeaderFields: true, deletionProtection: env.db.protect });
    let listener;
    if (env.https) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, "Zone", { hostedZoneId: "Z04417763KXQ2B7N6JY5E", zoneName: "example.com" });
      const certificate = new acm.Certificate(this, "Certificate", { domainName: "example.com", subjectAlternativeNames: ["*.example.com"], validation: acm.CertificateValidation.fromDns(zone) });
      alb.addRedirect({ sourcePort: 80, targetPort: 443 });
      listener = alb.addListener("Https", { port: 443, certificates: [certificate], sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    } else {
      listener = alb.addListener("Http", { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    }

    const dbSg = new ec2.SecurityGroup(this, "DbSg", { vpc, allowAllOutbound: false });
    const db = new rds.DatabaseInstance(this, "Database", {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_16 }),
      instanceType: new ec2.InstanceType(env.db.instanceType), vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [dbSg], multiAz: env.db.multiAz, allocatedStorage: env.db.storage, maxAllocatedStorage: env.db.maxStorage,
      storageEncrypted: true, storageEncryptionKey: key, backupRetention: cdk.Duration.days(env.db.backupDays),
      deletionProtection: env.db.protect, credentials: rds.Credentials.fromGeneratedSecret("app"),
      parameters: { "rds.force_ssl": "1" }, cloudwatchLogsExports: ["postgresql"], iamAuthentication: true,
    });
    const bastion = new ec2.BastionHostLinux(this, "Bastion", {
      vpc, subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, requireImdsv2: true,
      blockDevices: [{ deviceName: "/dev/xvda", volume: ec2.BlockDeviceVolume.ebs(8, { encrypted: true }) }],
    });
    db.connections.allowDefaultPortFrom(bastion);

    env.services.forEach((svc, index) => {
      const repo = new ecr.Repository(this, `${svc.name}Repo`, { imageScanOnPush: true, encryption: ecr.RepositoryEncryption.KMS, encryptionKey: key });
      const group = new logs.LogGroup(this, `${svc.name}Logs`, { retention: logs.RetentionDays.ONE_MONTH, encryptionKey: key });
      const task = new ecs.FargateTaskDefinition(this, `${svc.name}Task`, {
        cpu: svc.cpu, memoryLimitMiB: svc.memory,
        runtimePlatform: { cpuArchitecture: svc.arm64 ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      });
      const image = svc.image ? ecs.ContainerImage.fromRegistry(svc.image) : ecs.ContainerImage.fromEcrRepository(repo, "1.0.0");
      task.addContainer("app", {
        image, readonlyRootFilesystem: true, portMappings: [{ containerPort: svc.port }],
        logging: ecs.LogDrivers.awsLogs({ logGroup: group, streamPrefix: svc.name }),
        environment: { DB_HOST: db.dbInstanceEndpointAddress, DB_PORT: db.dbInstanceEndpointPort },
        secrets: { DB_PASSWORD: ecs.Secret.fromSecretsManager(db.secret, "password") },
      });
      const sg = new ec2.SecurityGroup(this, `${svc.name}Sg`, { vpc });
      const service = new ecs.FargateService(this, `${svc.name}Service`, {
        cluster, taskDefinition: task, desiredCount: svc.desired || 1, securityGroups: [sg],
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, circuitBreaker: { rollback: true },
        capacityProviderStrategies: env.spotOnly ? [{ capacityProvider: "FARGATE_SPOT", weight: 1 }]
          : [{ capacityProvider: "FARGATE", base: 1, weight: 1 }, { capacityProvider: "FARGATE_SPOT", weight: 2 }],
        cloudMapOptions: svc.public ? undefined : { name: svc.name },
      });
      db.connections.allowDefaultPortFrom(sg);
      if (svc.public) {
        const conditions = svc.hosts ? [elbv2.ListenerCondition.hostHeaders(svc.hosts)] : [elbv2.ListenerCondition.pathPatterns(svc.paths)];
        listener.addTargets(`${svc.name}Targets`, { priority: 10 * (index + 1), conditions, port: svc.port, protocol: elbv2.ApplicationProtocol.HTTP, targets: [service], healthCheck: { path: "/" } });
        new cloudwatch.Alarm(this, `${svc.name}5xx`, { metric: alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT), threshold: 10, evaluationPeriods: 1 });
      }
      const scaling = service.autoScaleTaskCount({ minCapacity: svc.minTasks || 1, maxCapacity: svc.maxTasks || 2 });
      scaling.scaleOnCpuUtilization(`${svc.name}Cpu`, { targetUtilizationPercent: 60 });
      for (const [metric, label] of [[service.metricCpuUtilization(), "Cpu"], [service.metricMemoryUtilization(), "Memory"]]) {
        new cloudwatch.Alarm(this, `${svc.name}${label}High`, { metric, threshold: 80, evaluationPeriods: 3 }).addAlarmAction({ bind: () => ({ alarmActionArn: topic.topicArn }) });
      }
      if (svc.pipeline) {
        const artifacts = new s3.Bucket(this, `${svc.name}Artifacts`, { encryptionKey: key, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, enforceSSL: true });
        const source = new codepipeline.Artifact(), built = new codepipeline.Artifact();
        const [owner, repoName] = svc.pipeline.repo.split("/");
        const project = new codebuild.PipelineProject(this, `${svc.name}Build`, {
          environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, privileged: true }, encryptionKey: key,
          environmentVariables: { REPOSITORY_URI: { value: repo.repositoryUri } },
        });
        repo.grantPullPush(project);
        const stages = [
          { stageName: "Source", actions: [new actions.CodeStarConnectionsSourceAction({ actionName: "Source", owner, repo: repoName, branch: "main", output: source, connectionArn: `arn:aws:codeconnections:${this.region}:${this.account}:connection/example` })] },
          { stageName: "Build", actions: [new actions.CodeBuildAction({ actionName: "Build", project, input: source, outputs: [built] })] },
        ];
        if (svc.pipeline.approval) stages.push({ stageName: "Approve", actions: [new actions.ManualApprovalAction({ actionName: "Approve", notificationTopic: topic })] });
        stages.push({ stageName: "Deploy", actions: [new actions.EcsDeployAction({ actionName: "Deploy", service, input: built })] });
        new codepipeline.Pipeline(this, `${svc.name}Pipeline`, { artifactBucket: artifacts, stages, pipelineType: codepipeline.PipelineType.V2 });
      }
    });
    new cdk.CfnOutput(this, "Url", { value: `${env.https ? "https" : "http"}://${alb.loadBalancerDnsName}` });
    cdk.Tags.of(this).add("Project", "ecs-platform");
    cdk.Tags.of(this).add("Environment", id);
  }
}

const app = new cdk.App({ outdir: process.env.CDK_OUTDIR || "cdk.out" });
for (const id of (process.argv[2] ? process.argv.slice(2) : Object.keys(ENVIRONMENTS))) {
  new Environment(app, id, ENVIRONMENTS[id], { env: { account: "123456789012", region: "eu-west-1" } });
}
app.synth();
