// The whole pipeline of one config.ini:
//
//   Okta event hook → HTTP API → ingest Lambda → SQS queue → worker Lambda → Amazon Connect
//                                     │ secret         ▲    │ ledger (DynamoDB)
//                                     └ Secrets Manager│    └ DLQ (SQS) → operator redrive
//   EventBridge Scheduler → reconcile Lambda ──────────┘ (only with [OktaApi]: reads Okta's
//                           and Connect's whole state, queues one message per user to change)
//
// Every number below says why it is what it is; PROTOCOLS.md §1 (Okta) and §4 (SQS +
// Lambda) are the sources of the limits quoted.
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as connect from 'aws-cdk-lib/aws-connect';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Architecture, CONFIG_PATH_IN_LAMBDA, FunctionName } from './artifacts';
import { LoadedConfig, samlMetadataPath } from './config';
import { connectStatements, connectWildcardAcks } from './connect-policy';
import {
  CONNECT_THROTTLES_METRIC,
  INGEST_METRICS,
  METRICS_NAMESPACE,
  PROVISIONING_LAG_METRIC,
  RECONCILE_METRICS,
  WORKER_OUTCOMES,
  addDashboard,
  dashboardUrl,
  stackMetric,
} from './dashboard';
import { addSamlFederation } from './saml';

/** The one path Okta calls: GET once for verification, POST for every delivery. */
export const HOOK_PATH = '/okta/events';

// Ingest: Okta waits 3 s and retries once on a timeout. The handler's own budget (2 s)
// makes it answer (5xx if SQS is slow, so Okta retries) well inside those 3 s; the 5 s
// Lambda timeout is only a backstop above that budget, so the runtime never kills a
// request the handler could still answer.
export const INGEST_BUDGET_MS = 2000;
export const INGEST_TIMEOUT = Duration.seconds(5);
// 128 MB, the minimum: measured cold start 6.7 ms and peak RSS 9.5 MiB (crates/ingest
// README). Its work per request is one SendMessageBatch per 10 events; even at the
// ~0.07 vCPU 128 MB gets, the TLS handshakes stay far below the 2 s budget.
export const INGEST_MEMORY_MB = 128;

// Worker: a batch of at most 10 events needs ~4 Connect calls per user, paced at 2
// requests/s (Connect's default quota): ~20 s when nothing is throttled. 60 s leaves room
// for throttling back-off; the worker stops 3 s before its deadline and reports what is
// left as failed, so SQS redelivers it.
export const WORKER_TIMEOUT = Duration.seconds(60);
// 256 MB: memory is small (SDK clients + ≤10 events), but Lambda CPU grows with memory
// and the worker opens TLS connections to DynamoDB, SQS and Connect at cold start.
export const WORKER_MEMORY_MB = 256;
/** The worker's claim on one event (WorkerSettings::event_lease): a redelivery must come later. */
export const WORKER_EVENT_LEASE = Duration.seconds(120);

/** Receives before a message goes to the DLQ (AWS: at least 5 with a batch size > 1). */
export const MAX_RECEIVE_COUNT = 5;
// AWS: visibility ≥ 6 × function timeout, so retries of a throttled batch never overlap a
// running one; and longer than the event lease, so a redelivered event finds it expired.
export const QUEUE_VISIBILITY = Duration.seconds(
  Math.max(6 * WORKER_TIMEOUT.toSeconds(), WORKER_EVENT_LEASE.toSeconds() + 60),
);
// 4 days covers a long Connect outage. A message keeps its original enqueue time when it
// moves to the DLQ, so the DLQ must keep messages longer: 14 days (SQS's maximum) gives
// an operator two weeks to read and redrive what failed.
export const QUEUE_RETENTION = Duration.days(4);
export const DLQ_RETENTION = Duration.days(14);

// Okta sends at most a few deliveries per second (400,000 events/day per org is ~5/s on
// average, batched). These limits are far above that and still cap what a flood of
// forged requests can cost: each one is refused by ingest after a constant-time check.
export const API_THROTTLE = { rateLimit: 50, burstLimit: 100 };

/** An old-enough message means the worker is stuck, failing or throttled. A 500-user
 * bulk assignment drains in ~17 min at 2 requests/s, so 30 min is not normal. */
export const QUEUE_AGE_ALARM = Duration.minutes(30);

// Okta never retries a 4xx, so every 4xx the hook gets is a delivery lost, and a hook
// whose URL or secret is wrong gets nothing else: 100 % of its requests. A healthy hook
// gets almost none (ingest answers 4xx only for a bad secret or a delivery with nothing
// usable in it). The alarm fires when, within one hour, at least 5 requests were
// answered 4xx AND they were at least half of all requests: a stray malformed delivery,
// a probe or a mistyped test curl (fewer than 5, or a small share of real traffic) does
// not trip it, while a misconfigured hook trips it as soon as Okta has tried 5 times.
// One hour, not minutes, because Okta's traffic follows admin activity: a small org may
// send a handful of deliveries an hour, and a broken hook must still reach 5 in the window.
export const API_4XX_ALARM = { period: Duration.hours(1), minErrors: 5, share: 0.5 };

// Ingest counts each 401 (IngestUnauthorized, an EMF metric of this stack). A rotation
// done as the README says causes none (a warm ingest reads the secret again on the first
// mismatch), so 401s mean the secret in Okta and in Secrets Manager differ, or someone
// without it is calling. 3 within 15 min: one stray request or a mistyped curl stays
// below; an Okta hook with a stale secret reaches it after 3 deliveries, each of which
// Okta has already dropped.
export const UNAUTHORIZED_ALARM = { period: Duration.minutes(15), threshold: 3 };
/** The metric ingest writes per 401 (crates/ingest/src/metrics.rs). */
export const INGEST_UNAUTHORIZED_METRIC = INGEST_METRICS.unauthorized;

// The worker counts every message it dead-letters (WorkerDeadLettered: a permanent
// failure, e.g. an unknown profile id or a username Connect refuses). The DLQ alarm
// already fires on the first one, but it stays in ALARM until the DLQ is emptied, so
// every later failure is silent. This alarm fires again for each new 5-minute window
// with at least one: each is a user whose Connect access is wrong until someone acts.
export const DEAD_LETTERED_ALARM = { period: Duration.minutes(5), threshold: 1 };

// Provisioning lag (ProvisioningLag, per converged Okta event: Okta's `published` → the
// worker's batch done). The slowest normal case is a bulk load: 500 users assigned at
// once need up to ~4 Connect calls each (WORKER_TIMEOUT's estimate; the benchmark
// measured 1 per new user) at Connect's default 2 requests/s, which MAX_CONCURRENCY
// workers share rather than multiply: 500 × 4 / 2 = 1,000 s, so the last user waits
// ~17 min and 90 % of them less than ~15 min. 30 min (the same bound as
// QueueBacklogOld) leaves 1.8× that worst case for Okta's delivery delay and a retried
// batch, so the bulk load does not trip it; a sustained lag above it means events wait
// for more than Connect's pace explains (throttling, retries, a stuck worker).
// p90, not Maximum: one event retried through a few visibility timeouts (360 s each)
// is the DLQ's and retries' business, not a slow pipeline. 15 min periods hold several
// batches even for a small org, and absorb EMF lines arriving a minute or two late.
export const LAG_ALARM = { period: Duration.minutes(15), statistic: 'p90', threshold: Duration.minutes(30) };

// Connect throttles (ConnectThrottles: worker calls Connect answered 429, retries
// included). The worker paces each API under the account's quota, so throttles are rare
// (a Lambda handing a batch to a fresh environment, idle workers starting together when
// MAX_CONCURRENCY > BURST) and each is retried. Sustained throttling says what the lag
// and backlog alarms cannot, and earlier: the pace is above the quota the account really
// has ([Connect] REQUESTS_PER_SECOND / BURST above its Service Quotas values,
// MAX_CONCURRENCY above BURST), or another client of the account's Connect API shares
// it. Every throttled call is retried after a backoff, so it costs time and, under a
// bulk load, hands messages back. At least 10 in each of 3 consecutive 5-min periods:
// the occasional few of a hand-over or a cold start stay below; a pace twice the quota
// under a bulk load makes hundreds per period. No invocation, no data: not breaching.
export const CONNECT_THROTTLE_ALARM = { period: Duration.minutes(5), threshold: 10, periods: 3 };

// Reconcile: a 10,000-user run reads Okta and Connect in ~20 s when nothing is throttled,
// but an Okta 429 waits until its rate-limit reset (up to 60 s each, several per run on a
// busy org), Connect's SearchUsers is paced at 2 pages/s, and the snapshot is one DynamoDB
// write per user and fact. 900 s is Lambda's maximum: a run cut off by its timeout queues
// nothing after that point and counts as an error, so the run gets all the time there is.
export const RECONCILE_TIMEOUT = Duration.minutes(15);
// 512 MB: unlike the worker's ≤10 events, a run holds the whole snapshot at once (every
// member of every mapped group and app, every Connect user with its tags), and Lambda's
// CPU grows with memory (~0.3 vCPU here) for parsing hundreds of pages of JSON.
export const RECONCILE_MEMORY_MB = 512;
/** The input the schedule sends: a real run. Dry runs are invoked by hand (RunReconcileCommand). */
export const RECONCILE_SCHEDULE_INPUT = { dryRun: false };
/** The namespace of the Embedded Metric Format lines of every Lambda (dimension Stack). */
export { METRICS_NAMESPACE };
// A reconcile metric has one datapoint per run (daily by default), not a series. One
// hour is long enough that an EMF line reaching CloudWatch minutes late still falls in
// an evaluated period, and the alarm stays in ALARM for that hour where an operator can
// see it; between runs there is no data, which counts as OK (notBreaching).
export const RECONCILE_ALARM_PERIOD = Duration.hours(1);

/**
 * The ledger's one global secondary index: every event item carries `listing` = "EVENTS"
 * and `updated_ms` (when it last changed), so one Query lists events newest first
 * (crates/aws/src/dynamodb.rs: EVENTS_INDEX and its key constants, which must match).
 * No Lambda reads it (the operator's commands do), so no role is granted `index/*`.
 */
export const EVENTS_INDEX = { name: 'events-by-update', partitionKey: 'listing', sortKey: 'updated_ms' } as const;

export interface OktaConnectStackProps extends StackProps {
  loaded: LoadedConfig;
  /** Asset folders (bootstrap + config.ini), from artifacts.stageAssets. */
  assets: Record<FunctionName, string>;
  architecture: Architecture;
}

export class OktaConnectStack extends Stack {
  readonly ingest: lambda.Function;
  readonly worker: lambda.Function;
  /** The scheduled reconcile, when [OktaApi] is set (it reads Okta's API). */
  readonly reconcile?: lambda.Function;
  readonly reconcileSchedule?: scheduler.Schedule;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly ledger: dynamodb.Table;
  readonly hookSecret: secretsmanager.Secret;
  /** The Okta API credential (private key or API token), when [OktaApi] is set and names no secret of its own. */
  readonly oktaApiSecret?: secretsmanager.Secret;
  readonly api: apigw.HttpApi;
  readonly alarmTopic?: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  /** The no-permission security profile, when config.ini names none but a policy needs one. */
  readonly noPermissionProfile?: connect.CfnSecurityProfile;

  constructor(scope: Construct, id: string, props: OktaConnectStackProps) {
    super(scope, id, props);
    const { config, overrides } = props.loaded;
    const retention = props.loaded.config.deploy.log_retention_days as logs.RetentionDays;
    const architecture =
      props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    // The Connect instance's Region: config.ini's REGION, else the stack's own (bin/app
    // deploys the stack into REGION when it is set: the worker uses that Region for
    // DynamoDB and SQS as well).
    const connectRegion = config.region ?? this.region;
    const instanceArn = `arn:${this.partition}:connect:${connectRegion}:${this.account}:instance/${config.instance_id}`;

    // ---- Storage -----------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This is the dead-letter queue: an operator inspects and redrives its messages. A DLQ behind it ' +
        'would only hide failures from the DeadLetterQueueNotEmpty alarm.',
    });
    this.queue = new sqs.Queue(this, 'EventQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: QUEUE_RETENTION,
      visibilityTimeout: QUEUE_VISIBILITY,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    // The ledger: per-event claims and per-user facts (pk/sk), expired by TTL after
    // LEDGER_RETENTION_DAYS. Its contents are the pipeline's memory (what was applied,
    // what failed), so it survives `cdk destroy` and can be restored to any second.
    this.ledger = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expires_at',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Events by when they last changed, for the operator's listing (see EVENTS_INDEX).
    // CloudFormation adds at most one global secondary index per stack update: add any
    // further index in a deployment of its own.
    this.ledger.addGlobalSecondaryIndex({
      indexName: EVENTS_INDEX.name,
      partitionKey: { name: EVENTS_INDEX.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: EVENTS_INDEX.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });

    // The value Okta sends in its authentication header. Generated here, never written
    // to config.ini or the template; letters and digits only so it pastes cleanly.
    this.hookSecret = new secretsmanager.Secret(this, 'HookSecret', {
      description: `Okta event hook header value (${config.ingest.secret_header}) for ${this.stackName}`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.hookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the value means pasting it into the Okta event hook form, which no Lambda can do. ' +
        'Rotate by hand without downtime: set SecretString to {"current": new, "previous": old}, ' +
        'update Okta, then drop "previous" (README).',
    });

    // The Okta API credential: created without a value (CloudFormation's "empty secret"),
    // because only the admin holds the private key or token; the outputs say how to fill
    // it. Skipped when [OktaApi] CREDENTIALS already names a secret of the admin's own.
    const oktaApi = config.okta_api;
    let oktaCredentialsOverride: Record<string, string> = {};
    if (oktaApi && oktaApi.credentials.from !== 'secret') {
      const secret = new secretsmanager.Secret(this, 'OktaApiCredentials', {
        description:
          oktaApi.auth.method === 'private_key_jwt'
            ? `Okta service app ${oktaApi.auth.client_id} private key (PEM) for ${this.stackName}`
            : `Okta API token (SSWS) for ${this.stackName}`,
      });
      (secret.node.defaultChild as secretsmanager.CfnSecret).addPropertyDeletionOverride('GenerateSecretString');
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'The value is a key pair registered in Okta (or an Okta API token): rotating means registering a new ' +
          'public key in Okta, which no Lambda can do. Rotate by hand: add the new key in Okta, put the new PEM ' +
          'here, then remove the old key in Okta (README).',
      });
      this.oktaApiSecret = secret;
      // The same override mechanism as any config.ini key: the worker reads the secret.
      oktaCredentialsOverride = { OKTA_CONNECT__OKTAAPI__CREDENTIALS: `secret:${secret.secretArn}` };
    }

    // ---- Lambdas -------------------------------------------------------------------
    const common = {
      runtime: lambda.Runtime.PROVIDED_AL2023,
      architecture,
      handler: 'bootstrap',
      loggingFormat: lambda.LoggingFormat.JSON,
    };
    // Suspension (and NO_PERMISSION removal) parks a Connect user on a security profile
    // that grants nothing, so an unsuspend restores the same user (id, audit history,
    // quick connects). Without NO_PERMISSION_SECURITY_PROFILE_ID in config.ini the stack
    // makes that profile in the instance and hands its id to the Lambdas as the same
    // override any config.ini key takes; the Lambdas refuse to start without one.
    const needsProfile = [config.removal, config.suspension].some(
      (p) => p.policy === 'NO_PERMISSION' && !p.security_profile_id,
    );
    let profileOverride: Record<string, string> = {};
    if (needsProfile) {
      this.noPermissionProfile = new connect.CfnSecurityProfile(this, 'NoPermissionSecurityProfile', {
        instanceArn,
        securityProfileName: `${this.stackName}-no-permission`,
        description: `Grants nothing: ${this.stackName} parks suspended (and revoked) agents here`,
        permissions: [],
      });
      // ARN: arn:PARTITION:connect:REGION:ACCOUNT:instance/INSTANCE_ID/security-profile/PROFILE_ID
      const profileId = Fn.select(3, Fn.split('/', this.noPermissionProfile.attrSecurityProfileArn));
      profileOverride = { OKTA_CONNECT__SYNC__NO_PERMISSION_SECURITY_PROFILE_ID: profileId };
    }
    const configEnv = {
      OKTA_CONNECT_CONFIG_FILE: CONFIG_PATH_IN_LAMBDA,
      RUST_LOG: 'info',
      ...overrides,
      ...profileOverride,
    };

    const ingestLogs = this.logGroup('IngestLogs', retention);
    this.ingest = new lambda.Function(this, 'Ingest', {
      ...common,
      description: 'Okta event hook receiver: checks the secret, answers verification, queues events',
      code: lambda.Code.fromAsset(props.assets.ingest),
      memorySize: INGEST_MEMORY_MB,
      timeout: INGEST_TIMEOUT,
      role: this.lambdaRole('IngestRole', ingestLogs),
      logGroup: ingestLogs,
      environment: {
        ...configEnv,
        OKTA_CONNECT_QUEUE_URL: this.queue.queueUrl,
        // Events of a delivery that are not usable go here, raw, with their reason:
        // Okta never retries a 4xx, so refusing the delivery would lose its good events.
        OKTA_CONNECT_DLQ_URL: this.deadLetterQueue.queueUrl,
        OKTA_CONNECT_HOOK_SECRET_ARN: this.hookSecret.secretArn,
        OKTA_CONNECT_INGEST_BUDGET_MS: String(INGEST_BUDGET_MS),
        // The Stack dimension of its IngestUnauthorized metric, which an alarm below reads.
        OKTA_CONNECT_STACK_NAME: this.stackName,
      },
    });
    // Exactly the calls ingest makes: GetSecretValue at cold start and again after a
    // secret mismatch (at most once a minute, so a rotated secret reaches warm
    // instances), SendMessageBatch (authorized as sqs:SendMessage) per delivery to the
    // queue, and to the DLQ for unusable events. Nothing else may read the secret.
    this.ingest.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.hookSecret.secretArn] }),
    );
    this.ingest.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn, this.deadLetterQueue.queueArn] }),
    );

    const workerLogs = this.logGroup('WorkerLogs', retention);
    this.worker = new lambda.Function(this, 'Worker', {
      ...common,
      description: 'Converges Connect users to the newest Okta facts; partial batch failures; DLQ for the hopeless',
      code: lambda.Code.fromAsset(props.assets.worker),
      memorySize: WORKER_MEMORY_MB,
      timeout: WORKER_TIMEOUT,
      role: this.lambdaRole('WorkerRole', workerLogs),
      logGroup: workerLogs,
      environment: {
        ...configEnv,
        OKTA_CONNECT_LEDGER_TABLE: this.ledger.tableName,
        OKTA_CONNECT_DLQ_URL: this.deadLetterQueue.queueUrl,
        // The Stack dimension of its outcome and lag metrics (dashboard, alarms below).
        OKTA_CONNECT_STACK_NAME: this.stackName,
        ...oktaCredentialsOverride,
      },
    });
    // The Okta API credential: the secret created above, or the admin's own by ARN or
    // name (a name matches any ARN suffix Secrets Manager appends, "-AbCdEf"). Both
    // Okta readers (worker, reconcile) get this one statement.
    let oktaCredentialSecretArn: string | undefined;
    if (this.oktaApiSecret) {
      oktaCredentialSecretArn = this.oktaApiSecret.secretArn;
    } else if (oktaApi?.credentials.from === 'secret') {
      const ref = oktaApi.credentials.name;
      oktaCredentialSecretArn = ref.startsWith('arn:')
        ? ref
        : `arn:${this.partition}:secretsmanager:${this.region}:${this.account}:secret:${ref}-??????`;
    }
    const readOktaCredential = () =>
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [oktaCredentialSecretArn!] });
    if (oktaCredentialSecretArn) this.worker.addToRolePolicy(readOktaCredential());
    const useLedger = (...more: string[]) =>
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', ...more],
        resources: [this.ledger.tableArn],
      });
    // DeleteItem: a user deleted in Okta has its facts forgotten once its Connect user is
    // revoked (only a tombstone with its Okta id stays).
    this.worker.addToRolePolicy(useLedger('dynamodb:DeleteItem'));
    // Events that can never succeed go to the DLQ at once, with their reason.
    this.worker.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    for (const statement of connectStatements(instanceArn, config)) this.worker.addToRolePolicy(statement);
    Validations.of(this.worker.role!).acknowledge(...connectWildcardAcks(instanceArn, config));

    // The mapping reads the queue (CDK grants Receive/Delete/ChangeVisibility/GetAttributes
    // on this queue only). ReportBatchItemFailures: one bad event never fails its batch.
    this.worker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.deploy.batch_size,
        maxConcurrency: config.deploy.max_concurrency,
        reportBatchItemFailures: true,
      }),
    );

    for (const fn of [this.ingest, this.worker]) {
      Validations.of(fn).acknowledge(
        {
          id: 'Serverless-LambdaDLQ',
          reason:
            'A Lambda DLQ only catches asynchronous invocations; ingest is invoked synchronously by API Gateway ' +
            '(a failure is a 5xx Okta retries) and the worker by an SQS mapping whose queue has its own DLQ.',
        },
      );
    }
    Validations.of(this.worker).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'SQS event source mappings do not support on-failure destinations; failed messages reach the DLQ ' +
        `through the queue's redrive policy (maxReceiveCount ${MAX_RECEIVE_COUNT}).`,
    });

    // ---- Reconcile (only with [OktaApi]: it reads Okta's API) --------------------------
    // Events describe changes; a run recovers what they missed (agents from before
    // go-live, deliveries Okta dropped, changed mappings) from Okta's current state. It
    // changes no Connect user itself: it queues one message per user to change into the
    // event queue, so the worker applies them at Connect's pace with the same retries,
    // DLQ and alarms as events.
    let reconcileLogs: logs.LogGroup | undefined;
    if (oktaApi) {
      reconcileLogs = this.logGroup('ReconcileLogs', retention);
      const reconcile = new lambda.Function(this, 'Reconcile', {
        ...common,
        description: 'Scheduled reconcile: reads Okta and Connect, records snapshot facts, queues the users to change',
        code: lambda.Code.fromAsset(props.assets.reconcile),
        memorySize: RECONCILE_MEMORY_MB,
        timeout: RECONCILE_TIMEOUT,
        // Two runs never overlap: a second would read the same state and queue every
        // change twice. With one slot, a hand-run invoke during a scheduled run is refused
        // (TooManyRequestsException), and the schedule's asynchronous invoke during a
        // hand run waits in Lambda's queue until the slot is free.
        reservedConcurrentExecutions: 1,
        // The schedule invokes asynchronously, and Lambda would retry a failed run twice.
        // Okta 429s and Connect throttling are already waited out inside the run, so what
        // fails a run (a missing credential, a denied call, Okta down, the 15 min timeout)
        // fails its retries too, each up to 15 min of Okta's rate limit. The next
        // scheduled run re-reads everything, so nothing is lost by not retrying.
        retryAttempts: 0,
        role: this.lambdaRole('ReconcileRole', reconcileLogs),
        logGroup: reconcileLogs,
        environment: {
          ...configEnv,
          OKTA_CONNECT_LEDGER_TABLE: this.ledger.tableName,
          OKTA_CONNECT_QUEUE_URL: this.queue.queueUrl,
          // The Stack dimension of its metrics, so the alarms below find this stack's runs.
          OKTA_CONNECT_STACK_NAME: this.stackName,
          ...oktaCredentialsOverride,
        },
      });
      this.reconcile = reconcile;
      // Exactly the calls a run makes: the credential at cold start, the snapshot facts
      // and the run's own record (PutItem) in the ledger, one SendMessage per user to
      // change, and Connect's user list. It never creates, updates or deletes a Connect
      // user (the worker does), and it sends nothing to the DLQ (a message it queues gets
      // there through the worker if hopeless).
      if (oktaCredentialSecretArn) reconcile.addToRolePolicy(readOktaCredential());
      reconcile.addToRolePolicy(useLedger());
      reconcile.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
      reconcile.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'SearchUsers', actions: ['connect:SearchUsers'], resources: [instanceArn] }),
      );
      Validations.of(reconcile).acknowledge(
        {
          id: 'Serverless-LambdaDLQ',
          reason:
            'A failed run raises the ReconcileErrors alarm and its log says why. A run is idempotent and the next ' +
            'one re-reads the whole state of Okta and Connect, so a failed invocation holds nothing a DLQ could keep.',
        },
        {
          id: 'Serverless-LambdaAsyncFailureDestination',
          reason:
            'The only asynchronous caller is the schedule, whose input is always {"dryRun": false}: a failure ' +
            'record would hold nothing to replay. Failures raise the ReconcileErrors alarm; the next run re-reads everything.',
        },
      );

      // The schedule assumes this role to invoke the function, and may do nothing else.
      // aws:SourceAccount and aws:SourceArn are AWS's confused-deputy guard for
      // EventBridge Scheduler: only schedules of this account's default group (where this
      // one lives; Scheduler gives a group's ARN as the source, never a schedule's) can
      // make the service use this role.
      const scheduleRole = new iam.Role(this, 'ReconcileScheduleRole', {
        description: `EventBridge Scheduler invokes the reconcile Lambda of ${this.stackName}`,
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: {
            StringEquals: {
              'aws:SourceAccount': this.account,
              'aws:SourceArn': this.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
            },
          },
        }),
      });
      // The unqualified function ARN only: the schedule invokes $LATEST, never a version
      // or alias, so no ":*" pattern.
      scheduleRole.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [reconcile.functionArn] }));
      const target: scheduler.IScheduleTarget = {
        // Not aws-scheduler-targets' LambdaInvoke: it would also grant "function:*"
        // (every version and alias). Scheduler's own retry policy (185 attempts within
        // 24 h) covers only the Invoke call, which Lambda accepts even while a run holds
        // the one concurrency slot.
        bind: () => ({
          arn: reconcile.functionArn,
          role: scheduleRole,
          input: scheduler.ScheduleTargetInput.fromObject(RECONCILE_SCHEDULE_INPUT),
        }),
      };
      this.reconcileSchedule = new scheduler.Schedule(this, 'ReconcileSchedule', {
        description: `Runs the reconcile of ${this.stackName} ([Reconcile] SCHEDULE)`,
        // Validated by the Rust checker (rate of ≥ 15 min, or a 6-field cron); UTC, as
        // config.ini documents it.
        schedule: scheduler.ScheduleExpression.expression(config.reconcile.schedule),
        enabled: config.reconcile.schedule_enabled,
        // A single invocation gains nothing from being spread out, and an operator
        // reading the alarms wants to know when the run happened.
        timeWindow: scheduler.TimeWindow.off(),
        target,
      });
    }

    const tracingReason = {
      id: 'Serverless-LambdaTracing',
      reason:
        'The Rust binaries emit no X-Ray segments. Their JSON logs carry the Okta delivery id (ingest), each ' +
        'event uuid and outcome (worker) and each run\'s summary (reconcile), which is how work is followed. ' +
        'X-Ray would also need "*".',
    };
    for (const fn of [this.ingest, this.worker, this.reconcile]) if (fn) Validations.of(fn).acknowledge(tracingReason);

    // ---- API -----------------------------------------------------------------------
    this.api = new apigw.HttpApi(this, 'HookApi', {
      description: `Okta event hook endpoint of ${this.stackName}`,
      createDefaultStage: false,
    });
    this.api.addRoutes({
      path: HOOK_PATH,
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('IngestIntegration', this.ingest, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    const accessLogs = this.logGroup('ApiAccessLogs', retention);
    new apigw.HttpStage(this, 'HookStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: API_THROTTLE,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: apigwv1.AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Okta event hooks cannot sign requests or fetch tokens (no IAM, JWT or OAuth): they send one ' +
        'shared-secret header, which the ingest Lambda checks in constant time on every request.',
    });

    // ---- Alarms --------------------------------------------------------------------
    if (config.deploy.alarm_email) {
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: `${this.stackName} alarms`,
        enforceSSL: true,
      });
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.deploy.alarm_email));
      Validations.of(this.alarmTopic).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'The only subscriber is an email address: SNS retries it by its email delivery policy, and the alarm ' +
          'states stay in CloudWatch whether or not a mail arrives. A DLQ for alarm mails would go unread.',
      });
    }
    const alarms = this.alarms();
    this.dashboard = addDashboard(this, {
      api: this.api,
      ingest: this.ingest,
      worker: this.worker,
      reconcile: this.reconcile,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      alarms,
      queueAgeAlarm: QUEUE_AGE_ALARM,
      lagAlarmMs: LAG_ALARM.threshold.toMilliseconds(),
      connectThrottleAlarm: CONNECT_THROTTLE_ALARM.threshold,
    });

    // ---- SAML federation (optional) ------------------------------------------------
    const samlFile = samlMetadataPath(props.loaded);
    if (config.deploy.saml && samlFile) {
      addSamlFederation(this, {
        providerName: config.deploy.saml.provider_name,
        metadataFile: samlFile,
        instanceArn,
        instanceId: config.instance_id,
        region: connectRegion,
      });
    }

    // ---- What the admin pastes into Okta --------------------------------------------
    const url = `${this.api.apiEndpoint}${HOOK_PATH}`;
    new CfnOutput(this, 'HookUrl', { description: "Okta Event Hook form: URL", value: url });
    new CfnOutput(this, 'HookSecretHeader', {
      description: 'Okta Event Hook form: Authentication field (the header name)',
      value: config.ingest.secret_header,
    });
    new CfnOutput(this, 'HookSecretArn', {
      description: 'Secrets Manager secret holding the Authentication secret value',
      value: this.hookSecret.secretArn,
    });
    new CfnOutput(this, 'ReadHookSecretCommand', {
      description: 'Prints the Authentication secret value to paste into Okta',
      value: `aws secretsmanager get-secret-value --region ${this.region} --secret-id ${this.hookSecret.secretArn} --query SecretString --output text`,
    });
    new CfnOutput(this, 'SubscribeEventTypes', {
      description: 'Event types to subscribe the Okta event hook to',
      value: config.subscribe_event_types.join(','),
    });
    if (this.oktaApiSecret) {
      const what = oktaApi?.auth.method === 'private_key_jwt' ? 'okta-private-key.pem' : 'okta-api-token.txt';
      new CfnOutput(this, 'OktaApiCredentialsSecretArn', {
        description: 'Secrets Manager secret the worker reads the Okta API credential from (created empty)',
        value: this.oktaApiSecret.secretArn,
      });
      new CfnOutput(this, 'FillOktaApiCredentialsCommand', {
        description: 'Stores the Okta credential (the service app private key in PEM, or the API token) before events arrive',
        value: `aws secretsmanager put-secret-value --region ${this.region} --secret-id ${this.oktaApiSecret.secretArn} --secret-string file://${what}`,
      });
    }
    // ---- What the operator needs afterwards ----------------------------------------
    // What the operator's commands (`okta-connect status|events|event|user|dlq|redrive
    // --stack NAME`) call, for the people who run the pipeline: attach it to their role
    // or group. Reads, and moving dead letters back to the queue; nothing that writes
    // Connect or the ledger.
    const operatorUsers = `${instanceArn}/agent/*`;
    const operatorPolicy = new iam.ManagedPolicy(this, 'OperatorPolicy', {
      description: `okta-connect operator commands for stack ${this.stackName}: read the queues, ledger and Connect users; redrive the DLQ`,
      statements: [
        new iam.PolicyStatement({ sid: 'FindTheStack', actions: ['cloudformation:DescribeStacks'], resources: [this.stackId] }),
        new iam.PolicyStatement({
          sid: 'QueueCounts',
          actions: ['sqs:GetQueueAttributes'],
          resources: [this.queue.queueArn, this.deadLetterQueue.queueArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadAndRedriveDeadLetters',
          actions: [
            'sqs:ReceiveMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:StartMessageMoveTask',
            'sqs:ListMessageMoveTasks',
          ],
          resources: [this.deadLetterQueue.queueArn],
        }),
        new iam.PolicyStatement({ sid: 'RedriveToTheQueue', actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
        new iam.PolicyStatement({
          sid: 'ReadTheLedger',
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [this.ledger.tableArn, `${this.ledger.tableArn}/index/${EVENTS_INDEX.name}`],
        }),
        // GetMetricData has no resource-level permissions: "*" is its only form.
        new iam.PolicyStatement({ sid: 'QueueAge', actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
        new iam.PolicyStatement({ sid: 'SearchConnectUsers', actions: ['connect:SearchUsers'], resources: [instanceArn] }),
        new iam.PolicyStatement({ sid: 'DescribeConnectUsers', actions: ['connect:DescribeUser'], resources: [operatorUsers] }),
      ],
    });
    Validations.of(operatorPolicy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'cloudwatch:GetMetricData supports no resource-level permission: "*" is its only form.',
      },
      ...connectWildcardAcks(instanceArn, config).filter((ack) => ack.id.endsWith('/agent/*]')),
    );
    new CfnOutput(this, 'OperatorPolicyArn', {
      description: 'Attach to the operators\' role or group: what okta-connect status/events/event/user/dlq/redrive need',
      value: operatorPolicy.managedPolicyArn,
    });
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueArn', {
      description: 'Redrive with: aws sqs start-message-move-task --source-arn <this>',
      value: this.deadLetterQueue.queueArn,
    });
    new CfnOutput(this, 'LedgerTableName', { value: this.ledger.tableName });
    new CfnOutput(this, 'IngestLogGroupName', { value: ingestLogs.logGroupName });
    new CfnOutput(this, 'WorkerLogGroupName', { value: workerLogs.logGroupName });
    new CfnOutput(this, 'DashboardUrl', {
      description: 'CloudWatch dashboard: ingest, queue, worker outcomes and lag, reconcile runs, alarms',
      value: dashboardUrl(this, this.dashboard),
    });
    if (this.reconcile && reconcileLogs && this.reconcileSchedule) {
      new CfnOutput(this, 'ReconcileFunctionName', { value: this.reconcile.functionName });
      // Synchronous, so the plan comes back in the file. The CLI's 60 s read timeout
      // would cut off a long run and make the CLI invoke it again (refused while the
      // first holds the one slot): wait as long as the function may run.
      new CfnOutput(this, 'RunReconcileCommand', {
        description:
          'On-demand dry run (the plan, nothing changed) written to reconcile-dry-run.json; for a real run with a ' +
          'higher revocation cap send {"dryRun":false,"maxRevocations":N}',
        value:
          `aws lambda invoke --region ${this.region} --function-name ${this.reconcile.functionName} ` +
          `--cli-binary-format raw-in-base64-out --cli-read-timeout ${RECONCILE_TIMEOUT.toSeconds()} ` +
          `--payload '{"dryRun":true}' reconcile-dry-run.json`,
      });
      new CfnOutput(this, 'ReconcileLogGroupName', { value: reconcileLogs.logGroupName });
      new CfnOutput(this, 'ReconcileScheduleName', {
        description: 'EventBridge Scheduler schedule (default group) of the reconcile; [Reconcile] SCHEDULE_ENABLED switches it',
        value: this.reconcileSchedule.scheduleName,
      });
    }
  }

  /** A log group the stack owns: retention from config.ini, removed with the stack. */
  private logGroup(id: string, retention: logs.RetentionDays): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention, removalPolicy: RemovalPolicy.DESTROY });
  }

  /** A role that may write to its own log group and nothing else (no AWS managed policy). */
  private lambdaRole(id: string, logGroup: logs.LogGroup): iam.Role {
    const role = new iam.Role(this, id, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );
    return role;
  }

  /** Every alarm of the stack (mailed to ALARM_EMAIL when set), for the dashboard too. */
  private alarms(): cloudwatch.Alarm[] {
    const every = (minutes: number) => Duration.minutes(minutes);
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, threshold: number, above = false) =>
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: above
          ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
          : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // No data means no messages or no invocations: nothing is wrong.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const alarms = [
      // Anything in the DLQ needs a human: an invalid user, a bad profile id, or 5 failures.
      alarm(
        'DeadLetterQueueNotEmpty',
        'Events in the DLQ: read their reason, fix the cause, then redrive them (README: Operating it)',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: every(1), statistic: 'Maximum' }),
        0,
        true,
      ),
      alarm(
        'QueueBacklogOld',
        `The oldest queued Okta event is older than ${QUEUE_AGE_ALARM.toMinutes()} min: worker stuck, failing or throttled`,
        this.queue.metricApproximateAgeOfOldestMessage({ period: every(5), statistic: 'Maximum' }),
        QUEUE_AGE_ALARM.toSeconds(),
      ),
      // The worker reports per-message failures; a Lambda error is a crash or a timeout.
      alarm(
        'WorkerErrors',
        'The worker Lambda crashed or timed out (per-event failures are not errors)',
        this.worker.metricErrors({ period: every(5), statistic: 'Sum' }),
        1,
      ),
      // MaximumConcurrency keeps the mapping under its own limit, so a throttle means the
      // account's Lambda concurrency is exhausted.
      alarm(
        'WorkerThrottles',
        "The worker Lambda was throttled: the account's Lambda concurrency is exhausted",
        this.worker.metricThrottles({ period: every(5), statistic: 'Sum' }),
        1,
      ),
      // Okta retries a failed delivery once, then drops it: ingest failures lose events.
      alarm(
        'IngestErrors',
        'The ingest Lambda failed: Okta retries once, then drops the delivery',
        this.ingest.metricErrors({ period: every(5), statistic: 'Sum' }),
        1,
      ),
      alarm(
        'ApiServerErrors',
        'The hook endpoint answered 5xx (SQS unavailable or ingest failing): Okta may drop events',
        this.api.metricServerError({ period: every(5), statistic: 'Sum' }),
        1,
      ),
      // See API_4XX_ALARM. FILL: an hour with requests but no 4xx datapoint is 0 errors.
      alarm(
        'ApiClientErrorRate',
        `At least ${API_4XX_ALARM.minErrors} requests in an hour, and at least ${API_4XX_ALARM.share * 100} % of all, ` +
          'were answered 4xx, which Okta never retries: check the hook URL, header and secret in Okta ' +
          '(README: Operating it), then replay the window with `okta-connect replay`',
        new cloudwatch.MathExpression({
          expression: `IF(FILL(errors, 0) >= ${API_4XX_ALARM.minErrors}, FILL(errors, 0) / requests, 0)`,
          usingMetrics: {
            errors: this.api.metricClientError({ period: API_4XX_ALARM.period, statistic: 'Sum' }),
            requests: this.api.metricCount({ period: API_4XX_ALARM.period, statistic: 'Sum' }),
          },
          period: API_4XX_ALARM.period,
          label: 'Share of hook requests answered 4xx',
        }),
        API_4XX_ALARM.share,
      ),
      alarm(
        'IngestUnauthorized',
        `${UNAUTHORIZED_ALARM.threshold} or more hook requests in ${UNAUTHORIZED_ALARM.period.toMinutes()} min were ` +
          'refused for a missing or wrong secret, and Okta does not retry them: make the secret in Okta and in ' +
          'Secrets Manager the same (README: Operating it)',
        stackMetric(this, INGEST_UNAUTHORIZED_METRIC, { period: UNAUTHORIZED_ALARM.period, statistic: 'Sum' }),
        UNAUTHORIZED_ALARM.threshold,
      ),
      // See DEAD_LETTERED_ALARM.
      alarm(
        'WorkerDeadLettered',
        'The worker dead-lettered events (permanent failures) in the last 5 min, even if the DLQ already held ' +
          'some: read each reason in the DLQ, fix the cause, then redrive (README: Operating it)',
        stackMetric(this, WORKER_OUTCOMES.deadLettered, { period: DEAD_LETTERED_ALARM.period, statistic: 'Sum' }),
        DEAD_LETTERED_ALARM.threshold,
      ),
      // See LAG_ALARM. No converged event in a window is no data: not an alarm.
      alarm(
        'ProvisioningLagHigh',
        `90 % of the Okta events converged in ${LAG_ALARM.period.toMinutes()} min took longer than ` +
          `${LAG_ALARM.threshold.toMinutes()} min from Okta to Connect, beyond what a 500-user bulk load at ` +
          "Connect's 2 requests/s takes: look at the dashboard's retries and throttles, and the worker log",
        stackMetric(this, PROVISIONING_LAG_METRIC, { period: LAG_ALARM.period, statistic: LAG_ALARM.statistic }),
        LAG_ALARM.threshold.toMilliseconds(),
      ),
      // See CONNECT_THROTTLE_ALARM: sustained, every period of the window breaching.
      new cloudwatch.Alarm(this, 'ConnectThrottling', {
        alarmDescription:
          `Amazon Connect throttled ${CONNECT_THROTTLE_ALARM.threshold} or more worker calls in each of ` +
          `${CONNECT_THROTTLE_ALARM.periods} consecutive ${CONNECT_THROTTLE_ALARM.period.toMinutes()}-min periods: ` +
          "the pace is above the account's Connect quotas. Set [Connect] REQUESTS_PER_SECOND and BURST to the " +
          "account's Service Quotas values, keep [Deploy] MAX_CONCURRENCY <= BURST, or find the other client " +
          "of the account's Connect API; the worker log names each refused API",
        metric: stackMetric(this, CONNECT_THROTTLES_METRIC, { period: CONNECT_THROTTLE_ALARM.period, statistic: 'Sum' }),
        threshold: CONNECT_THROTTLE_ALARM.threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: CONNECT_THROTTLE_ALARM.periods,
        datapointsToAlarm: CONNECT_THROTTLE_ALARM.periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    if (this.reconcile) {
      const runMetric = (metricName: string) =>
        stackMetric(this, metricName, { period: RECONCILE_ALARM_PERIOD, statistic: 'Maximum' });
      alarms.push(
        // The guardrail against an Okta misread (a renamed group read as empty) revoking
        // everyone: such a run queues nothing, so nothing converges until a human decides.
        alarm(
          'ReconcileStoppedAtCap',
          'A reconcile run planned more revocations than [Reconcile] MAX_REVOCATIONS and queued nothing: run ' +
            '`okta-connect reconcile --dry-run` against the stack, review, then re-run with --max-revocations N (README)',
          runMetric(RECONCILE_METRICS.stoppedAtCap),
          1,
        ),
        alarm(
          'ReconcileConflicts',
          'A reconcile run left users it could not converge safely: the run summary in the reconcile log names ' +
            'each user and the reason (README)',
          runMetric(RECONCILE_METRICS.conflicts),
          1,
        ),
        // A run that cannot read Okta or Connect queues nothing (an unread group never
        // counts as empty); one cut off by its timeout leaves the rest to the next run.
        alarm(
          'ReconcileErrors',
          'The reconcile Lambda failed (Okta or Connect unreadable, credential missing, or timeout): read its log',
          this.reconcile.metricErrors({ period: RECONCILE_ALARM_PERIOD, statistic: 'Sum' }),
          1,
        ),
      );
    }
    if (this.alarmTopic) {
      const action = new cwActions.SnsAction(this.alarmTopic);
      for (const a of alarms) a.addAlarmAction(action);
    }
    return alarms;
  }
}
