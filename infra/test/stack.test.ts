// Template assertions, one block per bullet of issue 7, on configs checked by the real binary.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { REPO_ROOT } from '../lib/config';
import { API_4XX_ALARM, EVENTS_INDEX, HOOK_PATH, INGEST_BUDGET_MS, RECONCILE_TIMEOUT, UNAUTHORIZED_ALARM } from '../lib/stack';
import {
  FIXTURES,
  REPO_CONFIG,
  Statement,
  build,
  checkConfigJson,
  flat,
  only,
  placeholderLambdaDir,
  roleStatements,
  writeConfig,
} from './helpers';

const INSTANCE = 'abcdefgh-0122-4131-adc2-a0ebe5a2b2a7';
const ARN = `arn:\${AWS::Partition}:connect:us-east-1:\${AWS::AccountId}:instance/${INSTANCE}`;
/** [OktaApi] with a service app, by overrides of the repository config.ini (which has none). */
const OKTA_API = { OKTA_CONNECT__OKTAAPI__ORG_URL: 'https://acme.okta.com', OKTA_CONNECT__OKTAAPI__CLIENT_ID: '0oa1serviceapp0000001' };

describe('the ledger index', () => {
  // The DynamoDB adapter (crates/aws/src/dynamodb.rs) queries the index by these names,
  // and its create_table makes it the same way for tests and local runs.
  it('has the names the DynamoDB adapter queries', () => {
    const source = fs.readFileSync(path.join(REPO_ROOT, 'crates', 'aws', 'src', 'dynamodb.rs'), 'utf8');
    const constant = (name: string) => {
      const found = source.match(new RegExp(`pub const ${name}: &str = "([^"]*)";`));
      assert.ok(found, `crates/aws/src/dynamodb.rs declares ${name}`);
      return found[1];
    };
    assert.deepEqual(EVENTS_INDEX, {
      name: constant('EVENTS_INDEX'),
      partitionKey: constant('EVENTS_INDEX_PARTITION_KEY'),
      sortKey: constant('EVENTS_INDEX_SORT_KEY'),
    });
  });
});

describe('the stack from the repository config.ini', () => {
  let b: ReturnType<typeof build>;
  let t: Template;
  let config: any;
  const id = (construct: any) => b.stack.getLogicalId(construct.node.defaultChild);

  before(() => {
    const json = checkConfigJson(REPO_CONFIG);
    config = JSON.parse(fs.readFileSync(json, 'utf8'));
    b = build({ configJson: json });
    t = b.template;
  });

  it('is named by [Deploy] STACK_NAME and lives in [Connect] REGION', () => {
    assert.equal(b.stack.stackName, 'OktaConnect');
    assert.equal(b.stack.region, 'us-east-1');
  });

  describe('Lambdas', () => {
    it('are provided.al2023 on arm64 with bootstrap, JSON logs and the justified sizes', () => {
      const fns = t.findResources('AWS::Lambda::Function');
      assert.equal(Object.keys(fns).length, 2);
      t.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'provided.al2023',
        Architectures: ['arm64'],
        Handler: 'bootstrap',
        MemorySize: 128,
        Timeout: 5,
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: id(b.stack.node.findChild('IngestLogs')) } },
      });
      t.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'provided.al2023',
        Architectures: ['arm64'],
        Handler: 'bootstrap',
        MemorySize: 256,
        Timeout: 60,
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: id(b.stack.node.findChild('WorkerLogs')) } },
      });
    });

    it('answer Okta inside its 3 s: ingest budget 2 s, timeout above the budget', () => {
      const ingest = t.toJSON().Resources[id(b.stack.ingest)].Properties;
      assert.equal(ingest.Environment.Variables.OKTA_CONNECT_INGEST_BUDGET_MS, String(INGEST_BUDGET_MS));
      assert.ok(INGEST_BUDGET_MS < 3000 && ingest.Timeout * 1000 > INGEST_BUDGET_MS);
    });

    it('get config.ini from their asset and the resources from the environment', () => {
      const env = (fn: any) => flat(t.toJSON().Resources[id(fn)].Properties.Environment.Variables);
      assert.deepEqual(env(b.stack.ingest), {
        OKTA_CONNECT_CONFIG_FILE: '/var/task/config.ini',
        RUST_LOG: 'info',
        OKTA_CONNECT_QUEUE_URL: `\${${id(b.stack.queue)}}`,
        OKTA_CONNECT_DLQ_URL: `\${${id(b.stack.deadLetterQueue)}}`,
        OKTA_CONNECT_HOOK_SECRET_ARN: `\${${id(b.stack.hookSecret)}}`,
        OKTA_CONNECT_INGEST_BUDGET_MS: '2000',
        OKTA_CONNECT_STACK_NAME: 'OktaConnect',
      });
      assert.deepEqual(env(b.stack.worker), {
        OKTA_CONNECT_CONFIG_FILE: '/var/task/config.ini',
        RUST_LOG: 'info',
        OKTA_CONNECT_LEDGER_TABLE: `\${${id(b.stack.ledger)}}`,
        OKTA_CONNECT_DLQ_URL: `\${${id(b.stack.deadLetterQueue)}}`,
        OKTA_CONNECT_STACK_NAME: 'OktaConnect',
      });
    });

    it('log to groups kept [Deploy] LOG_RETENTION_DAYS and removed with the stack', () => {
      const groups = t.findResources('AWS::Logs::LogGroup');
      assert.equal(Object.keys(groups).length, 3); // ingest, worker, API access log
      for (const g of Object.values(groups)) {
        assert.equal(g.Properties.RetentionInDays, config.deploy.log_retention_days);
        assert.equal(g.DeletionPolicy, 'Delete');
      }
    });
  });

  describe('SQS', () => {
    it('source queue: SSE, visibility ≥ 6 × worker timeout and > the 120 s event lease, redrive to the DLQ after 5', () => {
      const [, queue] = only(t, 'AWS::SQS::Queue', { RedrivePolicy: Match.anyValue() });
      const worker = t.toJSON().Resources[id(b.stack.worker)].Properties;
      assert.equal(queue.Properties.SqsManagedSseEnabled, true);
      assert.ok(queue.Properties.VisibilityTimeout >= 6 * worker.Timeout, 'visibility ≥ 6 × timeout');
      assert.ok(queue.Properties.VisibilityTimeout > 120, 'visibility > event lease');
      assert.deepEqual(queue.Properties.RedrivePolicy, {
        deadLetterTargetArn: { 'Fn::GetAtt': [id(b.stack.deadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      });
    });

    it('DLQ: SSE and a longer retention than the source queue', () => {
      const res = t.toJSON().Resources;
      const dlq = res[id(b.stack.deadLetterQueue)].Properties;
      const queue = res[id(b.stack.queue)].Properties;
      assert.equal(dlq.SqsManagedSseEnabled, true);
      assert.equal(dlq.MessageRetentionPeriod, 14 * 24 * 3600);
      assert.ok(dlq.MessageRetentionPeriod > queue.MessageRetentionPeriod);
    });

    it('both queues refuse requests without TLS', () => {
      for (const q of [b.stack.queue, b.stack.deadLetterQueue]) {
        t.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id(q) }],
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Deny',
                Action: 'sqs:*',
                Principal: { AWS: '*' },
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                Resource: { 'Fn::GetAtt': [id(q), 'Arn'] },
              },
            ],
          },
        });
      }
    });

    it('event source mapping: ReportBatchItemFailures, batch size and maximum concurrency from config', () => {
      const [, esm] = only(t, 'AWS::Lambda::EventSourceMapping');
      assert.deepEqual(esm.Properties, {
        BatchSize: config.deploy.batch_size,
        EventSourceArn: { 'Fn::GetAtt': [id(b.stack.queue), 'Arn'] },
        FunctionName: { Ref: id(b.stack.worker) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: config.deploy.max_concurrency },
      });
    });
  });

  it('DynamoDB ledger: pk/sk, on demand, TTL expires_at, PITR, retained on delete', () => {
    const [, table] = only(t, 'AWS::DynamoDB::Table');
    assert.deepEqual(table.Properties.KeySchema, [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(table.Properties.TimeToLiveSpecification, { AttributeName: 'expires_at', Enabled: true });
    assert.deepEqual(table.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.equal(table.DeletionPolicy, 'Retain');
    assert.equal(table.UpdateReplacePolicy, 'Retain');
  });

  it('DynamoDB ledger: exactly one GSI, events-by-update (listing S, updated_ms N), all attributes projected', () => {
    const [, table] = only(t, 'AWS::DynamoDB::Table');
    // CloudFormation creates or deletes at most one GSI per stack update.
    assert.deepEqual(table.Properties.GlobalSecondaryIndexes, [
      {
        IndexName: 'events-by-update',
        KeySchema: [
          { AttributeName: 'listing', KeyType: 'HASH' },
          { AttributeName: 'updated_ms', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    const types = Object.fromEntries(
      (table.Properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[]).map((d) => [
        d.AttributeName,
        d.AttributeType,
      ]),
    );
    assert.deepEqual(types, { pk: 'S', sk: 'S', listing: 'S', updated_ms: 'N' });
    assert.equal(table.Properties.LocalSecondaryIndexes, undefined);
  });

  it('no role may read the events index (only the operator lists events)', () => {
    for (const [pid, policy] of Object.entries(t.findResources('AWS::IAM::Policy'))) {
      assert.ok(!JSON.stringify(policy.Properties.PolicyDocument).includes('/index/'), pid);
    }
  });

  describe('Secrets Manager', () => {
    it('generates the hook secret', () => {
      const [, secret] = only(t, 'AWS::SecretsManager::Secret');
      assert.deepEqual(secret.Properties.GenerateSecretString, {
        ExcludePunctuation: true,
        IncludeSpace: false,
        PasswordLength: 48,
      });
      assert.equal(secret.Properties.SecretString, undefined);
    });

    it('is readable by ingest only, and only with GetSecretValue', () => {
      const secretId = id(b.stack.hookSecret);
      const readers: string[] = [];
      for (const [pid, policy] of Object.entries(t.findResources('AWS::IAM::Policy'))) {
        for (const s of policy.Properties.PolicyDocument.Statement) {
          if (JSON.stringify(s.Resource).includes(secretId)) {
            readers.push(...policy.Properties.Roles.map((r: any) => r.Ref));
            assert.deepEqual([s.Action].flat(), ['secretsmanager:GetSecretValue'], pid);
          }
        }
      }
      assert.deepEqual(readers, [id(b.stack.ingest.role)]);
      assert.deepEqual(t.findResources('AWS::SecretsManager::ResourcePolicy'), {});
    });
  });

  describe('IAM least privilege', () => {
    it('ingest: its log group, GetSecretValue on the secret, SendMessage on the queue and the DLQ', () => {
      const expected: Statement[] = [
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`\${${id(b.stack.node.findChild('IngestLogs'))}.Arn}`] },
        { actions: ['secretsmanager:GetSecretValue'], resources: [`\${${id(b.stack.hookSecret)}}`] },
        {
          actions: ['sqs:SendMessage'],
          resources: [`\${${id(b.stack.deadLetterQueue)}.Arn}`, `\${${id(b.stack.queue)}.Arn}`].sort(),
        },
      ];
      assert.deepEqual(roleStatements(t, id(b.stack.ingest.role)), expected);
    });

    it('worker: exactly its DynamoDB, SQS and Connect calls, scoped to the instance ARNs', () => {
      const worker = roleStatements(t, id(b.stack.worker.role));
      const expected: Statement[] = [
        { actions: ['connect:CreateUser'], resources: [`${ARN}/agent-group/*`, `${ARN}/agent/*`, `${ARN}/routing-profile/*`, `${ARN}/security-profile/*`] },
        { actions: ['connect:DeleteUser', 'connect:DescribeUser', 'connect:UpdateUserIdentityInfo'], resources: [`${ARN}/agent/*`] },
        { actions: ['connect:SearchUsers'], resources: [ARN] },
        { actions: ['connect:TagResource'], resources: [`${ARN}/agent/*`] },
        { actions: ['connect:UpdateUserHierarchy'], resources: [`${ARN}/agent-group/*`, `${ARN}/agent/*`] },
        { actions: ['connect:UpdateUserRoutingProfile'], resources: [`${ARN}/agent/*`, `${ARN}/routing-profile/*`] },
        { actions: ['connect:UpdateUserSecurityProfiles'], resources: [`${ARN}/agent/*`, `${ARN}/security-profile/*`] },
        {
          actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
          resources: [`\${${id(b.stack.ledger)}.Arn}`],
        },
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`\${${id(b.stack.node.findChild('WorkerLogs'))}.Arn}`] },
        // The event source mapping polls with the function's role.
        {
          actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
          resources: [`\${${id(b.stack.queue)}.Arn}`],
        },
        { actions: ['sqs:SendMessage'], resources: [`\${${id(b.stack.deadLetterQueue)}.Arn}`] },
      ];
      assert.deepEqual(worker, expected);
    });

    it('operators: a managed policy attached to nothing, with exactly what the operator commands call', () => {
      const [policyId, policy] = only(t, 'AWS::IAM::ManagedPolicy');
      for (const key of ['Roles', 'Users', 'Groups']) assert.equal(policy.Properties[key], undefined, key);
      const statements = (policy.Properties.PolicyDocument.Statement as any[]).map((s) => ({
        sid: s.Sid,
        actions: [s.Action].flat().sort(),
        resources: [s.Resource].flat().map(flat).sort(),
      }));
      const queue = `\${${id(b.stack.queue)}.Arn}`;
      const dlq = `\${${id(b.stack.deadLetterQueue)}.Arn}`;
      const ledger = `\${${id(b.stack.ledger)}.Arn}`;
      assert.deepEqual(statements, [
        { sid: 'FindTheStack', actions: ['cloudformation:DescribeStacks'], resources: ['${AWS::StackId}'] },
        { sid: 'QueueCounts', actions: ['sqs:GetQueueAttributes'], resources: [queue, dlq].sort() },
        {
          sid: 'ReadAndRedriveDeadLetters',
          actions: [
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:ListMessageMoveTasks',
            'sqs:ReceiveMessage',
            'sqs:StartMessageMoveTask',
          ],
          resources: [dlq],
        },
        { sid: 'RedriveToTheQueue', actions: ['sqs:SendMessage'], resources: [queue] },
        {
          sid: 'ReadTheLedger',
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [ledger, `${ledger}/index/${EVENTS_INDEX.name}`],
        },
        { sid: 'QueueAge', actions: ['cloudwatch:GetMetricData'], resources: ['*'] },
        { sid: 'SearchConnectUsers', actions: ['connect:SearchUsers'], resources: [ARN] },
        { sid: 'DescribeConnectUsers', actions: ['connect:DescribeUser'], resources: [`${ARN}/agent/*`] },
      ]);
      assert.equal(flat(t.toJSON().Outputs.OperatorPolicyArn.Value), `\${${policyId}}`);
    });

    it('worker may tag users with its two ownership tag keys only', () => {
      const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
        (p) => p.Properties.PolicyDocument.Statement as any[],
      );
      const tag = statements.filter((s) => [s.Action].flat().includes('connect:TagResource'));
      assert.equal(tag.length, 1);
      assert.deepEqual(tag[0].Condition, {
        'ForAllValues:StringEquals': {
          'aws:TagKeys': ['okta-connect:okta-user-id', 'okta-connect:mapping', 'okta-connect:hierarchy-group'],
        },
      });
    });

    it('no policy anywhere has a "*" resource or action, and no role has a managed policy', () => {
      for (const policy of Object.values(t.findResources('AWS::IAM::Policy'))) {
        for (const s of policy.Properties.PolicyDocument.Statement) {
          assert.ok(![s.Resource].flat().includes('*'), JSON.stringify(s));
          assert.ok(![s.Action].flat().some((a: string) => a.endsWith('*')), JSON.stringify(s));
        }
      }
      for (const role of Object.values(t.findResources('AWS::IAM::Role'))) {
        assert.equal(role.Properties.ManagedPolicyArns, undefined);
      }
    });
  });

  describe('API Gateway', () => {
    it('routes GET and POST of one path to ingest (payload 2.0)', () => {
      const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
      assert.deepEqual(routes.sort(), [`GET ${HOOK_PATH}`, `POST ${HOOK_PATH}`]);
      t.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [id(b.stack.ingest), 'Arn'] },
      });
      t.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    });

    it('throttles the stage and writes JSON access logs', () => {
      const [, stage] = only(t, 'AWS::ApiGatewayV2::Stage');
      assert.equal(stage.Properties.StageName, '$default');
      assert.deepEqual(stage.Properties.DefaultRouteSettings, { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 });
      assert.deepEqual(stage.Properties.AccessLogSettings.DestinationArn, {
        'Fn::GetAtt': [id(b.stack.node.findChild('ApiAccessLogs')), 'Arn'],
      });
      const format = JSON.parse(stage.Properties.AccessLogSettings.Format);
      assert.equal(format.requestId, '$context.requestId');
      assert.equal(format.status, '$context.status');
    });
  });

  describe('alarms', () => {
    const alarm = (metric: string, namespace: string) => {
      const found = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter(
        (a) => a.Properties.MetricName === metric && a.Properties.Namespace === namespace,
      );
      assert.equal(found.length, 1, `${namespace} ${metric}`);
      return found[0].Properties;
    };

    it('DLQ visible messages > 0', () => {
      const a = alarm('ApproximateNumberOfMessagesVisible', 'AWS/SQS');
      assert.deepEqual(a.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(b.stack.deadLetterQueue), 'QueueName'] } }]);
      assert.equal(a.ComparisonOperator, 'GreaterThanThreshold');
      assert.equal(a.Threshold, 0);
    });

    it('source queue age of oldest message ≥ 30 min', () => {
      const a = alarm('ApproximateAgeOfOldestMessage', 'AWS/SQS');
      assert.deepEqual(a.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(b.stack.queue), 'QueueName'] } }]);
      assert.equal(a.Threshold, 1800);
    });

    it('worker errors and throttles, ingest errors, API 5xx', () => {
      const fnDim = (fn: any) => [{ Name: 'FunctionName', Value: { Ref: id(fn) } }];
      const errors = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.MetricName === 'Errors');
      assert.deepEqual(
        errors.map((a) => a.Properties.Dimensions).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
        [fnDim(b.stack.ingest), fnDim(b.stack.worker)].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
      );
      assert.deepEqual(alarm('Throttles', 'AWS/Lambda').Dimensions, fnDim(b.stack.worker));
      assert.equal(alarm('5xx', 'AWS/ApiGateway').Threshold, 1);
      for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) {
        assert.equal(a.Properties.TreatMissingData, 'notBreaching');
      }
    });

    it('API 4xx share: at least 5 of an hour, and at least half of all requests', () => {
      const found = Object.entries(t.findResources('AWS::CloudWatch::Alarm')).filter(([k]) => k.startsWith('ApiClientErrorRate'));
      assert.equal(found.length, 1);
      const a = found[0][1].Properties;
      assert.equal(a.Threshold, API_4XX_ALARM.share);
      assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal(a.EvaluationPeriods, 1);
      assert.equal(a.TreatMissingData, 'notBreaching');
      const expression = a.Metrics.find((m: any) => m.Expression);
      assert.equal(expression.Expression, `IF(FILL(errors, 0) >= ${API_4XX_ALARM.minErrors}, FILL(errors, 0) / requests, 0)`);
      assert.equal(expression.ReturnData, true);
      const inputs = Object.fromEntries(
        a.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, m.MetricStat]),
      );
      assert.equal(inputs.errors.Metric.MetricName, '4xx');
      assert.equal(inputs.requests.Metric.MetricName, 'Count');
      for (const stat of Object.values(inputs) as any[]) {
        assert.equal(stat.Metric.Namespace, 'AWS/ApiGateway');
        assert.deepEqual(stat.Metric.Dimensions, [{ Name: 'ApiId', Value: { Ref: id(b.stack.api) } }]);
        assert.equal(stat.Period, 3600);
        assert.equal(stat.Stat, 'Sum');
      }
    });

    it('ingest 401s: IngestUnauthorized of this stack, Sum ≥ 3 over 15 min', () => {
      const a = alarm('IngestUnauthorized', 'OktaConnect');
      assert.deepEqual(a.Dimensions, [{ Name: 'Stack', Value: 'OktaConnect' }]);
      assert.equal(a.Statistic, 'Sum');
      assert.equal(a.Period, UNAUTHORIZED_ALARM.period.toSeconds());
      assert.equal(a.Period, 900);
      assert.equal(a.Threshold, 3);
      assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    });

    it('notify nobody without [Deploy] ALARM_EMAIL', () => {
      t.resourceCountIs('AWS::SNS::Topic', 0);
      for (const a of Object.values(t.findResources('AWS::CloudWatch::Alarm'))) {
        assert.equal(a.Properties.AlarmActions, undefined);
      }
    });
  });

  it('creates no SAML federation unless [Deploy] SAML_FEDERATION = true', () => {
    t.resourceCountIs('AWS::IAM::SAMLProvider', 0);
    assert.equal(Object.keys(t.findResources('AWS::IAM::Role')).length, 2);
    assert.deepEqual(t.findOutputs('SamlRelayState'), {});
  });

  it('outputs what the Okta Event Hook form needs', () => {
    const out = (name: string) => flat(t.toJSON().Outputs[name].Value);
    assert.equal(out('HookUrl'), `\${${id(b.stack.api)}.ApiEndpoint}${HOOK_PATH}`);
    assert.equal(out('HookSecretHeader'), 'authorization');
    assert.equal(out('HookSecretArn'), `\${${id(b.stack.hookSecret)}}`);
    assert.equal(
      out('ReadHookSecretCommand'),
      `aws secretsmanager get-secret-value --region us-east-1 --secret-id \${${id(b.stack.hookSecret)}} --query SecretString --output text`,
    );
    assert.equal(out('SubscribeEventTypes'), config.subscribe_event_types.join(','));
    assert.ok(config.subscribe_event_types.includes('group.user_membership.add'));
    assert.equal(out('QueueUrl'), `\${${id(b.stack.queue)}}`);
    assert.equal(out('DeadLetterQueueUrl'), `\${${id(b.stack.deadLetterQueue)}}`);
    assert.equal(out('DeadLetterQueueArn'), `\${${id(b.stack.deadLetterQueue)}.Arn}`);
    assert.equal(out('LedgerTableName'), `\${${id(b.stack.ledger)}}`);
    assert.equal(out('IngestLogGroupName'), `\${${id(b.stack.node.findChild('IngestLogs'))}}`);
    assert.equal(out('WorkerLogGroupName'), `\${${id(b.stack.node.findChild('WorkerLogs'))}}`);
  });
});

describe('config.ini switches', () => {
  it('ALARM_EMAIL: an SNS topic (TLS only) mailing it, as the action of every alarm', () => {
    const b = build({ env: { OKTA_CONNECT__DEPLOY__ALARM_EMAIL: 'ops@example.com' } });
    const t = b.template;
    const [topicId, topic] = only(t, 'AWS::SNS::Topic');
    assert.ok(topic);
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    assert.equal(alarms.length, 11);
    for (const a of alarms) assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
    // The override that set it reaches both Lambdas, which read the same config.
    for (const fn of Object.values(t.findResources('AWS::Lambda::Function'))) {
      assert.equal(fn.Properties.Environment.Variables.OKTA_CONNECT__DEPLOY__ALARM_EMAIL, 'ops@example.com');
    }
  });

  it('SAML_FEDERATION: provider from the metadata file, federation role, Relay State output', () => {
    const metadata = path.join(FIXTURES, 'okta-idp-metadata.xml');
    const file = writeConfig(
      (text) =>
        text
          .replace(/^SAML_FEDERATION = false/m, 'SAML_FEDERATION = true')
          .replace(/^# SAML_METADATA_FILE = .*$/m, 'SAML_METADATA_FILE = okta-metadata.xml')
          .replace(/^# SAML_PROVIDER_NAME = .*$/m, 'SAML_PROVIDER_NAME = OktaConnectTest'),
      { 'okta-metadata.xml': metadata },
    );
    const b = build({ configFile: file });
    const t = b.template;
    const [providerId, provider] = only(t, 'AWS::IAM::SAMLProvider');
    assert.equal(provider.Properties.Name, 'OktaConnectTest');
    assert.equal(provider.Properties.SamlMetadataDocument, fs.readFileSync(metadata, 'utf8'));

    const roles = Object.entries(t.findResources('AWS::IAM::Role')).filter(
      ([, r]) => r.Properties.AssumeRolePolicyDocument.Statement[0].Action === 'sts:AssumeRoleWithSAML',
    );
    assert.equal(roles.length, 1);
    const [roleId, role] = roles[0];
    assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement, [
      {
        Action: 'sts:AssumeRoleWithSAML',
        Effect: 'Allow',
        Principal: { Federated: { Ref: providerId } },
        Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
      },
    ]);
    assert.deepEqual(roleStatements(t, roleId), [
      { actions: ['connect:GetFederationToken'], resources: [`${ARN}/user/\${aws:userid}`] },
    ]);
    const out = (name: string) => flat(t.toJSON().Outputs[name].Value);
    assert.equal(
      out('SamlRelayState'),
      `https://us-east-1.console.aws.amazon.com/connect/federate/${INSTANCE}?destination=%2Fconnect%2Fccp`,
    );
    assert.equal(out('OktaRoleAttribute'), `\${${roleId}.Arn},\${${providerId}}`);
    assert.equal(out('SamlProviderArn'), `\${${providerId}}`);
    assert.equal(out('FederationRoleArn'), `\${${roleId}.Arn}`);
  });

  it('SAML_FEDERATION with a missing metadata file fails the synth and names the file', () => {
    const file = writeConfig((text) =>
      text.replace(/^SAML_FEDERATION = false/m, 'SAML_FEDERATION = true').replace(/^# SAML_METADATA_FILE = .*$/m, 'SAML_METADATA_FILE = gone.xml'),
    );
    assert.throws(() => build({ configFile: file }), new RegExp(`${path.dirname(file)}/gone\\.xml`));
  });

  it('no hierarchy group in any mapping: no UpdateUserHierarchy and no agent-group resources', () => {
    const b = build({ env: { OKTA_CONNECT__MAPPING_SUPERVISORS__HIERARCHY_GROUP_ID: '' } });
    const statements = roleStatements(b.template, b.stack.getLogicalId(b.stack.worker.role!.node.defaultChild as any));
    const connect = statements.filter((s) => s.actions[0].startsWith('connect:'));
    assert.deepEqual(
      connect.map((s) => s.actions).flat().sort(),
      ['connect:CreateUser', 'connect:DeleteUser', 'connect:DescribeUser', 'connect:SearchUsers', 'connect:TagResource', 'connect:UpdateUserIdentityInfo', 'connect:UpdateUserRoutingProfile', 'connect:UpdateUserSecurityProfiles'],
    );
    assert.ok(!JSON.stringify(connect).includes('agent-group'));
  });

  it('no [Connect] REGION: an environment-agnostic stack whose ARNs use its own Region', () => {
    const b = build({ env: { OKTA_CONNECT__CONNECT__REGION: '' } });
    const statements = roleStatements(b.template, b.stack.getLogicalId(b.stack.worker.role!.node.defaultChild as any));
    const search = statements.find((s) => s.actions[0] === 'connect:SearchUsers');
    assert.deepEqual(search?.resources, [`arn:\${AWS::Partition}:connect:\${AWS::Region}:\${AWS::AccountId}:instance/${INSTANCE}`]);
  });

  it('a no-permission profile is created only when config.ini names none, and reaches every Lambda that revokes', () => {
    build().template.resourceCountIs('AWS::Connect::SecurityProfile', 0);
    const b = build({ env: { ...OKTA_API, OKTA_CONNECT__SYNC__NO_PERMISSION_SECURITY_PROFILE_ID: '' } });
    const [profileId, profile] = only(b.template, 'AWS::Connect::SecurityProfile');
    assert.deepEqual(profile.Properties.Permissions, [], 'grants nothing');
    assert.equal(flat(profile.Properties.InstanceArn), `arn:\${AWS::Partition}:connect:us-east-1:\${AWS::AccountId}:instance/${INSTANCE}`);
    const expected = { 'Fn::Select': [3, { 'Fn::Split': ['/', { 'Fn::GetAtt': [profileId, 'SecurityProfileArn'] }] }] };
    for (const fn of [b.stack.worker, b.stack.reconcile!]) {
      const [, resource] = only(b.template, 'AWS::Lambda::Function', { Description: (fn.node.defaultChild as any).description });
      assert.deepEqual(resource.Properties.Environment.Variables.OKTA_CONNECT__SYNC__NO_PERMISSION_SECURITY_PROFILE_ID, expected);
    }
    // SUSPEND_POLICY = DELETE and REMOVAL_POLICY = DELETE need none.
    const none = build({
      env: { OKTA_CONNECT__SYNC__NO_PERMISSION_SECURITY_PROFILE_ID: '', OKTA_CONNECT__SYNC__SUSPEND_POLICY: 'DELETE' },
    });
    none.template.resourceCountIs('AWS::Connect::SecurityProfile', 0);
  });

  it('BATCH_SIZE and MAX_CONCURRENCY reach the event source mapping', () => {
    const file = writeConfig((text) => text.replace(/^BATCH_SIZE = 10 /m, 'BATCH_SIZE = 3 ').replace(/^MAX_CONCURRENCY = 2 /m, 'MAX_CONCURRENCY = 7 '));
    const b = build({ configFile: file });
    b.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 3, ScalingConfig: { MaximumConcurrency: 7 } });
  });

  it('no [OktaApi]: no Okta credential secret, and the worker reads no secret', () => {
    const b = build();
    assert.equal(b.stack.oktaApiSecret, undefined);
    b.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    const worker = roleStatements(b.template, b.stack.getLogicalId(b.stack.worker.role!.node.defaultChild as any));
    assert.ok(!worker.some((s) => s.actions.includes('secretsmanager:GetSecretValue')));
  });

  it('[OktaApi] with a service app: an empty secret only the worker reads, its override, and how to fill it', () => {
    const b = build({
      env: { OKTA_CONNECT__OKTAAPI__ORG_URL: 'https://acme.okta.com', OKTA_CONNECT__OKTAAPI__CLIENT_ID: '0oa1serviceapp0000001' },
    });
    const t = b.template;
    const id = (construct: any) => b.stack.getLogicalId(construct.node.defaultChild);
    const secretId = id(b.stack.oktaApiSecret!);
    const secret = t.toJSON().Resources[secretId];
    assert.equal(secret.Properties.GenerateSecretString, undefined, 'created empty: only the admin has the key');
    assert.equal(secret.Properties.SecretString, undefined);
    const workerFn = t.toJSON().Resources[id(b.stack.worker)];
    assert.equal(flat(workerFn.Properties.Environment.Variables.OKTA_CONNECT__OKTAAPI__CREDENTIALS), `secret:\${${secretId}}`);
    const ingestFn = t.toJSON().Resources[id(b.stack.ingest)];
    assert.equal(ingestFn.Properties.Environment.Variables.OKTA_CONNECT__OKTAAPI__CREDENTIALS, undefined);
    const worker = roleStatements(t, b.stack.getLogicalId(b.stack.worker.role!.node.defaultChild as any));
    assert.deepEqual(
      worker.filter((s) => s.actions.includes('secretsmanager:GetSecretValue')),
      [{ actions: ['secretsmanager:GetSecretValue'], resources: [`\${${secretId}}`] }],
    );
    const ingest = roleStatements(t, b.stack.getLogicalId(b.stack.ingest.role!.node.defaultChild as any));
    assert.ok(!JSON.stringify(ingest).includes(secretId), 'ingest never reads the Okta credential');
    const out = (name: string) => flat(t.toJSON().Outputs[name].Value);
    assert.equal(out('OktaApiCredentialsSecretArn'), `\${${secretId}}`);
    assert.equal(
      out('FillOktaApiCredentialsCommand'),
      `aws secretsmanager put-secret-value --region us-east-1 --secret-id \${${secretId}} --secret-string file://okta-private-key.pem`,
    );
  });

  it('[OktaApi] CREDENTIALS = secret:NAME: no secret created, the worker may read that one', () => {
    const b = build({
      env: { OKTA_CONNECT__OKTAAPI__ORG_URL: 'https://acme.okta.com', OKTA_CONNECT__OKTAAPI__CREDENTIALS: 'secret:okta/token' },
    });
    assert.equal(b.stack.oktaApiSecret, undefined);
    const worker = roleStatements(b.template, b.stack.getLogicalId(b.stack.worker.role!.node.defaultChild as any));
    assert.deepEqual(
      worker.filter((s) => s.actions.includes('secretsmanager:GetSecretValue')),
      [
        {
          actions: ['secretsmanager:GetSecretValue'],
          resources: ['arn:${AWS::Partition}:secretsmanager:us-east-1:${AWS::AccountId}:secret:okta/token-??????'],
        },
      ],
    );
  });

  it('an x86_64 build (the fallback of scripts/build-lambdas.sh) makes x86_64 functions', () => {
    const b = build({ lambdaDir: placeholderLambdaDir('x86_64') });
    for (const fn of Object.values(b.template.findResources('AWS::Lambda::Function'))) {
      assert.deepEqual(fn.Properties.Architectures, ['x86_64']);
    }
  });
});

describe('the reconcile Lambda and its schedule (with [OktaApi])', () => {
  let b: ReturnType<typeof build>;
  let t: Template;
  let config: any;
  const id = (construct: any) => b.stack.getLogicalId(construct.node.defaultChild ?? construct);
  const child = (name: string) => b.stack.node.findChild(name);

  before(() => {
    config = JSON.parse(fs.readFileSync(checkConfigJson(REPO_CONFIG, OKTA_API), 'utf8'));
    b = build({ env: OKTA_API });
    t = b.template;
  });

  it('the checker reports the schedule: rate(1 day), enabled, in the repository config.ini', () => {
    assert.deepEqual(config.reconcile, { max_revocations: 10, schedule: 'rate(1 day)', schedule_enabled: true });
    assert.deepEqual(b.loaded.config.reconcile, config.reconcile);
  });

  it('is provided.al2023 on arm64 with JSON logs to its own group, 512 MB, 900 s, one at a time', () => {
    assert.equal(Object.keys(t.findResources('AWS::Lambda::Function')).length, 3);
    const fn = t.toJSON().Resources[id(b.stack.reconcile!)].Properties;
    assert.equal(fn.Runtime, 'provided.al2023');
    assert.deepEqual(fn.Architectures, ['arm64']);
    assert.equal(fn.Handler, 'bootstrap');
    assert.equal(fn.MemorySize, 512);
    assert.equal(fn.Timeout, 900, "Lambda's maximum");
    assert.equal(fn.Timeout, RECONCILE_TIMEOUT.toSeconds());
    assert.equal(fn.ReservedConcurrentExecutions, 1);
    assert.deepEqual(fn.LoggingConfig, { LogFormat: 'JSON', LogGroup: { Ref: id(child('ReconcileLogs')) } });
    const group = t.toJSON().Resources[id(child('ReconcileLogs'))];
    assert.equal(group.Properties.RetentionInDays, config.deploy.log_retention_days);
    assert.equal(group.DeletionPolicy, 'Delete');
  });

  it('is not retried by Lambda when a run fails (the next scheduled run re-reads everything)', () => {
    const [, invokeConfig] = only(t, 'AWS::Lambda::EventInvokeConfig');
    assert.deepEqual(invokeConfig.Properties, {
      FunctionName: { Ref: id(b.stack.reconcile!) },
      MaximumRetryAttempts: 0,
      Qualifier: '$LATEST',
    });
  });

  it('gets config.ini, the overrides, the ledger, the main event queue, the stack name and the Okta credential', () => {
    const env = flat(t.toJSON().Resources[id(b.stack.reconcile!)].Properties.Environment.Variables);
    assert.deepEqual(env, {
      OKTA_CONNECT_CONFIG_FILE: '/var/task/config.ini',
      RUST_LOG: 'info',
      ...OKTA_API,
      OKTA_CONNECT_LEDGER_TABLE: `\${${id(b.stack.ledger)}}`,
      // The queue the worker drains (not the DLQ): the worker applies what reconcile queues.
      OKTA_CONNECT_QUEUE_URL: `\${${id(b.stack.queue)}}`,
      OKTA_CONNECT_STACK_NAME: 'OktaConnect',
      OKTA_CONNECT__OKTAAPI__CREDENTIALS: `secret:\${${id(b.stack.oktaApiSecret!)}}`,
    });
    const [esm] = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'));
    assert.deepEqual(esm.Properties.EventSourceArn, { 'Fn::GetAtt': [id(b.stack.queue), 'Arn'] });
  });

  it('role: its log group, the Okta credential, the ledger, SendMessage on the queue, SearchUsers on the instance', () => {
    const expected: Statement[] = [
      { actions: ['connect:SearchUsers'], resources: [ARN] },
      {
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        resources: [`\${${id(b.stack.ledger)}.Arn}`],
      },
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`\${${id(child('ReconcileLogs'))}.Arn}`] },
      { actions: ['secretsmanager:GetSecretValue'], resources: [`\${${id(b.stack.oktaApiSecret!)}}`] },
      { actions: ['sqs:SendMessage'], resources: [`\${${id(b.stack.queue)}.Arn}`] },
    ];
    const statements = roleStatements(t, id(b.stack.reconcile!.role!));
    assert.deepEqual(statements, expected);
    // Spelled out: it changes no Connect user (the worker does) and never writes the DLQ.
    const actions = statements.flatMap((s) => s.actions);
    for (const a of ['connect:DescribeUser', 'connect:CreateUser', 'connect:DeleteUser', 'connect:TagResource']) {
      assert.ok(!actions.includes(a), a);
    }
    assert.ok(!JSON.stringify(statements).includes(id(b.stack.deadLetterQueue)), 'no DLQ access');
  });

  it('the Okta credential is read by the worker and reconcile only', () => {
    const secretId = id(b.stack.oktaApiSecret!);
    const readers: string[] = [];
    for (const policy of Object.values(t.findResources('AWS::IAM::Policy'))) {
      if (JSON.stringify(policy.Properties.PolicyDocument).includes(secretId)) readers.push(...policy.Properties.Roles.map((r: any) => r.Ref));
    }
    assert.deepEqual(readers.sort(), [id(b.stack.reconcile!.role!), id(b.stack.worker.role!)].sort());
  });

  it('schedule: [Reconcile] SCHEDULE in UTC, enabled, no flexible window, {"dryRun": false} to the function', () => {
    const [, schedule] = only(t, 'AWS::Scheduler::Schedule');
    const p = schedule.Properties;
    assert.equal(p.ScheduleExpression, config.reconcile.schedule);
    assert.equal(p.ScheduleExpressionTimezone, 'Etc/UTC');
    assert.equal(p.State, 'ENABLED');
    assert.deepEqual(p.FlexibleTimeWindow, { Mode: 'OFF' });
    assert.deepEqual(p.Target.Arn, { 'Fn::GetAtt': [id(b.stack.reconcile!), 'Arn'] });
    assert.deepEqual(JSON.parse(p.Target.Input), { dryRun: false });
    assert.deepEqual(p.Target.RoleArn, { 'Fn::GetAtt': [id(child('ReconcileScheduleRole')), 'Arn'] });
    assert.equal(p.GroupName, undefined, 'the default group, which the role trust names');
  });

  it('schedule role: assumable by Scheduler for this account only, may invoke the function and nothing else', () => {
    const roleId = id(child('ReconcileScheduleRole'));
    const role = t.toJSON().Resources[roleId];
    assert.deepEqual(flat(role.Properties.AssumeRolePolicyDocument.Statement), [
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': '${AWS::AccountId}',
            'aws:SourceArn': 'arn:${AWS::Partition}:scheduler:us-east-1:${AWS::AccountId}:schedule-group/default',
          },
        },
      },
    ]);
    assert.deepEqual(roleStatements(t, roleId), [
      { actions: ['lambda:InvokeFunction'], resources: [`\${${id(b.stack.reconcile!)}.Arn}`] },
    ]);
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
  });

  it('no policy has a "*" resource or action, and no role a managed policy', () => {
    for (const policy of Object.values(t.findResources('AWS::IAM::Policy'))) {
      for (const st of policy.Properties.PolicyDocument.Statement) {
        assert.ok(![st.Resource].flat().includes('*'), JSON.stringify(st));
        assert.ok(![st.Action].flat().some((a: string) => a.endsWith('*')), JSON.stringify(st));
      }
    }
    for (const role of Object.values(t.findResources('AWS::IAM::Role'))) assert.equal(role.Properties.ManagedPolicyArns, undefined);
  });

  describe('alarms', () => {
    const alarmNamed = (logicalPrefix: string) => {
      const found = Object.entries(t.findResources('AWS::CloudWatch::Alarm')).filter(([k]) => k.startsWith(logicalPrefix));
      assert.equal(found.length, 1, logicalPrefix);
      return found[0][1].Properties;
    };

    it('stopped at the revocation cap and conflicts: the run metrics of this stack, Maximum ≥ 1 over an hour', () => {
      for (const metric of ['ReconcileStoppedAtCap', 'ReconcileConflicts']) {
        const a = alarmNamed(metric);
        assert.equal(a.Namespace, 'OktaConnect');
        assert.equal(a.MetricName, metric);
        assert.deepEqual(a.Dimensions, [{ Name: 'Stack', Value: 'OktaConnect' }]);
        assert.equal(a.Statistic, 'Maximum');
        assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
        assert.equal(a.Threshold, 1);
        assert.equal(a.Period, 3600);
        assert.equal(a.EvaluationPeriods, 1);
        assert.equal(a.TreatMissingData, 'notBreaching', 'no run, no data: not an alarm');
      }
      assert.match(alarmNamed('ReconcileStoppedAtCap').AlarmDescription, /--dry-run.*--max-revocations/);
    });

    it('reconcile errors: the function’s Errors ≥ 1 over an hour', () => {
      const a = alarmNamed('ReconcileErrors');
      assert.equal(a.Namespace, 'AWS/Lambda');
      assert.equal(a.MetricName, 'Errors');
      assert.deepEqual(a.Dimensions, [{ Name: 'FunctionName', Value: { Ref: id(b.stack.reconcile!) } }]);
      assert.equal(a.Statistic, 'Sum');
      assert.equal(a.Threshold, 1);
      assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      assert.equal(a.Period, 3600);
      assert.equal(a.TreatMissingData, 'notBreaching');
    });

    it('join the other eleven', () => {
      assert.equal(Object.keys(t.findResources('AWS::CloudWatch::Alarm')).length, 14);
    });
  });

  it('outputs the function, the on-demand dry run command, its log group and schedule', () => {
    const out = (name: string) => flat(t.toJSON().Outputs[name].Value);
    const fn = id(b.stack.reconcile!);
    assert.equal(out('ReconcileFunctionName'), `\${${fn}}`);
    assert.equal(
      out('RunReconcileCommand'),
      `aws lambda invoke --region us-east-1 --function-name \${${fn}} --cli-binary-format raw-in-base64-out ` +
        `--cli-read-timeout 900 --payload '{"dryRun":true}' reconcile-dry-run.json`,
    );
    assert.equal(out('ReconcileLogGroupName'), `\${${id(child('ReconcileLogs'))}}`);
    assert.equal(out('ReconcileScheduleName'), `\${${id(b.stack.reconcileSchedule!)}}`);
  });
});

describe('reconcile switches', () => {
  it('SCHEDULE_ENABLED = false: the schedule is DISABLED, the function stays for runs by hand', () => {
    const b = build({ env: { ...OKTA_API, OKTA_CONNECT__RECONCILE__SCHEDULE_ENABLED: 'false' } });
    const [, schedule] = only(b.template, 'AWS::Scheduler::Schedule');
    assert.equal(schedule.Properties.State, 'DISABLED');
    assert.ok(b.stack.reconcile);
    b.template.hasOutput('RunReconcileCommand', {});
  });

  it('SCHEDULE = cron(...) in config.ini reaches the schedule as written', () => {
    const file = writeConfig((text) => text.replace(/^SCHEDULE = rate\(1 day\)/m, 'SCHEDULE = cron(30 2 ? * MON-FRI *)'));
    const b = build({ configFile: file, env: OKTA_API });
    const [, schedule] = only(b.template, 'AWS::Scheduler::Schedule');
    assert.equal(schedule.Properties.ScheduleExpression, 'cron(30 2 ? * MON-FRI *)');
    assert.equal(schedule.Properties.State, 'ENABLED');
  });

  it('ALARM_EMAIL: the three reconcile alarms mail it too', () => {
    const b = build({ env: { ...OKTA_API, OKTA_CONNECT__DEPLOY__ALARM_EMAIL: 'ops@example.com' } });
    const [topicId] = only(b.template, 'AWS::SNS::Topic');
    const alarms = Object.entries(b.template.findResources('AWS::CloudWatch::Alarm'));
    assert.equal(alarms.length, 14);
    for (const [, a] of alarms) assert.deepEqual(a.Properties.AlarmActions, [{ Ref: topicId }]);
    assert.equal(alarms.filter(([k]) => k.startsWith('Reconcile')).length, 3);
  });

  it('CREDENTIALS = secret:NAME: reconcile reads the admin’s secret, like the worker', () => {
    const b = build({ env: { ...OKTA_API, OKTA_CONNECT__OKTAAPI__CREDENTIALS: 'secret:okta/key' } });
    const read = (fn: any) =>
      roleStatements(b.template, b.stack.getLogicalId(fn.role.node.defaultChild)).filter((s) =>
        s.actions.includes('secretsmanager:GetSecretValue'),
      );
    const expected = [
      { actions: ['secretsmanager:GetSecretValue'], resources: ['arn:${AWS::Partition}:secretsmanager:us-east-1:${AWS::AccountId}:secret:okta/key-??????'] },
    ];
    assert.deepEqual(read(b.stack.reconcile), expected);
    assert.deepEqual(read(b.stack.worker), expected);
    const env = b.template.toJSON().Resources[b.stack.getLogicalId(b.stack.reconcile!.node.defaultChild as any)].Properties.Environment.Variables;
    assert.equal(env.OKTA_CONNECT__OKTAAPI__CREDENTIALS, 'secret:okta/key');
  });

  it('no [OktaApi]: no reconcile function, schedule, schedule role, alarms or outputs', () => {
    const b = build();
    const t = b.template;
    assert.equal(b.stack.reconcile, undefined);
    assert.equal(b.stack.reconcileSchedule, undefined);
    assert.equal(Object.keys(t.findResources('AWS::Lambda::Function')).length, 2);
    t.resourceCountIs('AWS::Scheduler::Schedule', 0);
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
    const trusted = Object.values(t.findResources('AWS::IAM::Role')).map((r) => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal);
    assert.ok(!JSON.stringify(trusted).includes('scheduler.amazonaws.com'));
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    assert.equal(alarms.length, 11);
    // Ingest's and the worker's own metrics only: no reconcile metric without a reconcile.
    assert.deepEqual(
      alarms.filter((a) => a.Properties.Namespace === 'OktaConnect').map((a) => a.Properties.MetricName),
      ['IngestUnauthorized', 'WorkerDeadLettered', 'ProvisioningLag', 'ConnectThrottles'],
    );
    for (const name of ['ReconcileFunctionName', 'RunReconcileCommand', 'ReconcileLogGroupName', 'ReconcileScheduleName']) {
      assert.deepEqual(t.findOutputs(name), {}, name);
    }
    // Nothing sends to the main queue but ingest.
    const senders = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as any[]).some(
        (st) => [st.Action].flat().includes('sqs:SendMessage') && JSON.stringify(st.Resource).includes(b.stack.getLogicalId(b.stack.queue.node.defaultChild as any)),
      ),
    );
    assert.equal(senders.length, 1);
  });
});
