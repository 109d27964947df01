// The whole pipeline of one config.ini:
//
//   Okta event hook → HTTP API → ingest Lambda → SQS queue → worker Lambda → Amazon Connect
//                                     │ secret              │ ledger (DynamoDB)
//                                     └ Secrets Manager     └ DLQ (SQS) → operator redrive
//
// Every number below says why it is what it is; PROTOCOLS.md §1 (Okta) and §4 (SQS +
// Lambda) are the sources of the limits quoted.
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Architecture, CONFIG_PATH_IN_LAMBDA, FunctionName } from './artifacts';
import { LoadedConfig, samlMetadataPath } from './config';
import { connectStatements, connectWildcardAcks } from './connect-policy';
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

export interface OktaConnectStackProps extends StackProps {
  loaded: LoadedConfig;
  /** Asset folders (bootstrap + config.ini), from artifacts.stageAssets. */
  assets: Record<FunctionName, string>;
  architecture: Architecture;
}

export class OktaConnectStack extends Stack {
  readonly ingest: lambda.Function;
  readonly worker: lambda.Function;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly ledger: dynamodb.Table;
  readonly hookSecret: secretsmanager.Secret;
  /** The Okta API credential (private key or API token), when [OktaApi] is set and names no secret of its own. */
  readonly oktaApiSecret?: secretsmanager.Secret;
  readonly api: apigw.HttpApi;
  readonly alarmTopic?: sns.Topic;

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
    const configEnv = { OKTA_CONNECT_CONFIG_FILE: CONFIG_PATH_IN_LAMBDA, RUST_LOG: 'info', ...overrides };

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
        OKTA_CONNECT_HOOK_SECRET_ARN: this.hookSecret.secretArn,
        OKTA_CONNECT_INGEST_BUDGET_MS: String(INGEST_BUDGET_MS),
      },
    });
    // Exactly the calls ingest makes: GetSecretValue once at cold start, SendMessageBatch
    // (authorized as sqs:SendMessage) per delivery. Nothing else may read the secret.
    this.ingest.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.hookSecret.secretArn] }),
    );
    this.ingest.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));

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
        ...oktaCredentialsOverride,
      },
    });
    if (this.oktaApiSecret) {
      this.worker.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.oktaApiSecret.secretArn] }),
      );
    } else if (oktaApi?.credentials.from === 'secret') {
      // The admin's own secret, by ARN or name: a name matches any ARN suffix Secrets
      // Manager appends ("-AbCdEf").
      const ref = oktaApi.credentials.name;
      const arn = ref.startsWith('arn:')
        ? ref
        : `arn:${this.partition}:secretsmanager:${this.region}:${this.account}:secret:${ref}-??????`;
      this.worker.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
    }
    this.worker.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        resources: [this.ledger.tableArn],
      }),
    );
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
          id: 'Serverless-LambdaTracing',
          reason:
            'The Rust binaries emit no X-Ray segments. Their JSON logs carry the Okta delivery id (ingest) and ' +
            'each event uuid and outcome (worker), which is how a delivery is followed. X-Ray would also need "*".',
        },
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
    this.alarms();

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
    new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueArn', {
      description: 'Redrive with: aws sqs start-message-move-task --source-arn <this>',
      value: this.deadLetterQueue.queueArn,
    });
    new CfnOutput(this, 'LedgerTableName', { value: this.ledger.tableName });
    new CfnOutput(this, 'IngestLogGroupName', { value: ingestLogs.logGroupName });
    new CfnOutput(this, 'WorkerLogGroupName', { value: workerLogs.logGroupName });
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

  private alarms(): void {
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
    ];
    if (this.alarmTopic) {
      const action = new cwActions.SnsAction(this.alarmTopic);
      for (const a of alarms) a.addAlarmAction(action);
    }
  }
}
