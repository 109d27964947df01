// The dashboard (its widgets read the right metrics of the right resources), its output,
// the worker's Stack dimension, and the three alarms on the worker's own metrics.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Template } from 'aws-cdk-lib/assertions';
import {
  CONNECT_THROTTLES_METRIC,
  INGEST_METRICS,
  PROVISIONING_LAG_METRIC,
  RECONCILE_METRICS,
  WORKER_OUTCOMES,
} from '../lib/dashboard';
import { CONNECT_THROTTLE_ALARM, DEAD_LETTERED_ALARM, LAG_ALARM, QUEUE_AGE_ALARM, WORKER_TIMEOUT } from '../lib/stack';
import { build, flat, only } from './helpers';

const OKTA_API = { OKTA_CONNECT__OKTAAPI__ORG_URL: 'https://acme.okta.com', OKTA_CONNECT__OKTAAPI__CLIENT_ID: '0oa1serviceapp0000001' };

interface Graph {
  type: string;
  properties: { title?: string; metrics?: any[][]; alarms?: string[]; annotations?: any; markdown?: string };
}

/** The dashboard's widgets, its body parsed with Refs written as ${LogicalId}. */
function widgets(t: Template): Graph[] {
  const [, dashboard] = only(t, 'AWS::CloudWatch::Dashboard');
  return JSON.parse(flat(dashboard.Properties.DashboardBody)).widgets;
}

/** A graph's metrics as "Namespace/Name Dim=Value… stat". */
function series(widget: Graph): string[] {
  return (widget.properties.metrics ?? []).map((m) => {
    const options = typeof m[m.length - 1] === 'object' ? (m[m.length - 1] as any) : {};
    const plain = m.filter((x) => typeof x === 'string') as string[];
    const [namespace, name, ...dims] = plain;
    const pairs = [];
    for (let i = 0; i < dims.length; i += 2) pairs.push(`${dims[i]}=${dims[i + 1]}`);
    return `${namespace}/${name} ${pairs.join(' ')} ${options.stat ?? ''}`.trim();
  });
}

function graph(all: Graph[], title: string): Graph {
  const found = all.filter((w) => w.properties.title === title);
  assert.equal(found.length, 1, title);
  return found[0];
}

describe('the dashboard', () => {
  let b: ReturnType<typeof build>;
  let t: Template;
  let all: Graph[];
  const id = (construct: any) => b.stack.getLogicalId(construct.node.defaultChild);
  const own = (name: string, stat: string) => `OktaConnect/${name} Stack=OktaConnect ${stat}`;

  before(() => {
    b = build();
    t = b.template;
    all = widgets(t);
  });

  it('is named after the stack, and its console URL is the DashboardUrl output', () => {
    const [logicalId, dashboard] = only(t, 'AWS::CloudWatch::Dashboard');
    assert.equal(dashboard.Properties.DashboardName, 'OktaConnect');
    assert.equal(
      flat(t.toJSON().Outputs.DashboardUrl.Value),
      `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=\${${logicalId}}`,
    );
  });

  it('ingest: API requests, 4xx and 5xx of this API; ingest’s own counts', () => {
    const api = `ApiId=\${${id(b.stack.api)}}`;
    assert.deepEqual(series(graph(all, 'Hook requests (API)')), [
      `AWS/ApiGateway/Count ${api} Sum`,
      `AWS/ApiGateway/4xx ${api} Sum`,
      `AWS/ApiGateway/5xx ${api} Sum`,
    ]);
    assert.deepEqual(series(graph(all, 'Ingest')), [
      own(INGEST_METRICS.received, 'Sum'),
      own(INGEST_METRICS.queued, 'Sum'),
      own(INGEST_METRICS.unauthorized, 'Sum'),
      own(INGEST_METRICS.rejected, 'Sum'),
      own(INGEST_METRICS.deadLettered, 'Sum'),
      own(INGEST_METRICS.trimmed, 'Sum'),
      `AWS/Lambda/Errors FunctionName=\${${id(b.stack.ingest)}} Sum`,
    ]);
  });

  it('queue depth and age of the oldest of the event queue; DLQ depth', () => {
    const queue = `QueueName=\${${id(b.stack.queue)}.QueueName}`;
    assert.deepEqual(series(graph(all, 'Queue depth')), [
      `AWS/SQS/ApproximateNumberOfMessagesVisible ${queue} Maximum`,
      `AWS/SQS/ApproximateNumberOfMessagesNotVisible ${queue} Maximum`,
    ]);
    const age = graph(all, 'Age of the oldest queued event');
    assert.deepEqual(series(age), [`AWS/SQS/ApproximateAgeOfOldestMessage ${queue} Maximum`]);
    assert.equal(age.properties.annotations.horizontal[0].value, QUEUE_AGE_ALARM.toSeconds());
    assert.deepEqual(series(graph(all, 'Dead-letter queue depth')), [
      `AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=\${${id(b.stack.deadLetterQueue)}.QueueName} Maximum`,
    ]);
  });

  it('worker: every outcome the worker writes, the lag’s percentiles, throttles', () => {
    assert.deepEqual(
      series(graph(all, 'Worker outcomes (messages)')),
      Object.values(WORKER_OUTCOMES).map((name) => own(name, 'Sum')),
    );
    // The names the Rust worker writes (crates/worker/src/metrics.rs), spelt out here so
    // a rename on either side fails this test.
    assert.deepEqual(Object.values(WORKER_OUTCOMES), [
      'WorkerCreated',
      'WorkerUpdated',
      'WorkerRevoked',
      'WorkerUnchanged',
      'WorkerDuplicate',
      'WorkerNotRelevant',
      'WorkerRetried',
      'WorkerDeadLettered',
    ]);
    const lag = graph(all, 'Provisioning lag (Okta published → Connect converged)');
    assert.deepEqual(series(lag), [
      own(PROVISIONING_LAG_METRIC, 'p50'),
      own(PROVISIONING_LAG_METRIC, 'p90'),
      own(PROVISIONING_LAG_METRIC, 'Maximum'),
    ]);
    assert.equal(lag.properties.annotations.horizontal[0].value, LAG_ALARM.threshold.toMilliseconds());
    const worker = `FunctionName=\${${id(b.stack.worker)}}`;
    // Connect's throttles as the worker counts them (crates/worker/src/metrics.rs:
    // CONNECT_THROTTLES), summed per 5 min like the outcomes, with the alarm's line.
    assert.equal(CONNECT_THROTTLES_METRIC, 'ConnectThrottles');
    const connect = graph(all, 'Connect throttles');
    assert.deepEqual(series(connect), [own('ConnectThrottles', 'Sum')]);
    // 5 min: CDK leaves a metric's period out of the body when it is the graph's 300 s.
    for (const m of connect.properties.metrics!) assert.equal(m[m.length - 1].period ?? 300, 300);
    assert.equal(connect.properties.annotations.horizontal[0].value, CONNECT_THROTTLE_ALARM.threshold);
    const [, dashboard] = only(t, 'AWS::CloudWatch::Dashboard');
    assert.match(flat(dashboard.Properties.DashboardBody), /"ConnectThrottles"/);
    assert.deepEqual(series(graph(all, 'Throttles and failures')), [
      `AWS/Lambda/Throttles ${worker} Sum`,
      `AWS/Lambda/Errors ${worker} Sum`,
      own(WORKER_OUTCOMES.retried, 'Sum'),
    ]);
  });

  it('shows every alarm of the stack', () => {
    const [status] = all.filter((w) => w.type === 'alarm');
    const alarms = Object.keys(t.findResources('AWS::CloudWatch::Alarm'));
    assert.equal(status.properties.alarms!.length, alarms.length);
    for (const logicalId of alarms) assert.ok(status.properties.alarms!.includes(`\${${logicalId}.Arn}`), logicalId);
  });

  it('has no reconcile row without [OktaApi]', () => {
    assert.ok(!all.some((w) => w.properties.title?.startsWith('Reconcile')));
  });

  it('with [OktaApi]: reconcile runs and problems, by the run metrics and the function’s errors', () => {
    const b = build({ env: OKTA_API });
    const all = widgets(b.template);
    const hour = (name: string) => `OktaConnect/${name} Stack=OktaConnect Sum`;
    assert.deepEqual(series(graph(all, 'Reconcile runs')), [hour(RECONCILE_METRICS.queued), hour(RECONCILE_METRICS.revocations)]);
    assert.deepEqual(series(graph(all, 'Reconcile problems')), [
      hour(RECONCILE_METRICS.conflicts),
      hour(RECONCILE_METRICS.stoppedAtCap),
      hour(RECONCILE_METRICS.connectThrottles),
      `AWS/Lambda/Errors FunctionName=\${${b.stack.getLogicalId(b.stack.reconcile!.node.defaultChild as any)}} Sum`,
    ]);
    for (const w of all.filter((w) => w.properties.title?.startsWith('Reconcile'))) {
      for (const m of w.properties.metrics!) assert.equal(m[m.length - 1].period, 3600);
    }
  });
});

describe('the worker’s metrics', () => {
  let b: ReturnType<typeof build>;
  let t: Template;
  before(() => {
    b = build();
    t = b.template;
  });
  const alarm = (prefix: string) => {
    const found = Object.entries(t.findResources('AWS::CloudWatch::Alarm')).filter(([k]) => k.startsWith(prefix));
    assert.equal(found.length, 1, prefix);
    return found[0][1].Properties;
  };

  it('are dimensioned by this stack: the worker gets OKTA_CONNECT_STACK_NAME', () => {
    const env = t.toJSON().Resources[b.stack.getLogicalId(b.stack.worker.node.defaultChild as any)].Properties.Environment.Variables;
    assert.equal(env.OKTA_CONNECT_STACK_NAME, 'OktaConnect');
  });

  it('WorkerDeadLettered: Sum ≥ 1 in 5 min, though the DLQ alarm may already be in ALARM', () => {
    const a = alarm('WorkerDeadLettered');
    assert.equal(a.Namespace, 'OktaConnect');
    assert.equal(a.MetricName, 'WorkerDeadLettered');
    assert.deepEqual(a.Dimensions, [{ Name: 'Stack', Value: 'OktaConnect' }]);
    assert.equal(a.Statistic, 'Sum');
    assert.equal(a.Period, DEAD_LETTERED_ALARM.period.toSeconds());
    assert.equal(a.Period, 300);
    assert.equal(a.Threshold, 1);
    assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(a.EvaluationPeriods, 1);
    assert.equal(a.TreatMissingData, 'notBreaching');
  });

  it('ConnectThrottling: Sum ≥ 10 in each of 3 consecutive 5-min periods (sustained, not a stray 429)', () => {
    const a = alarm('ConnectThrottling');
    assert.equal(a.Namespace, 'OktaConnect');
    assert.equal(a.MetricName, 'ConnectThrottles');
    assert.deepEqual(a.Dimensions, [{ Name: 'Stack', Value: 'OktaConnect' }]);
    assert.equal(a.Statistic, 'Sum');
    assert.equal(a.Period, CONNECT_THROTTLE_ALARM.period.toSeconds());
    assert.equal(a.Period, 300);
    assert.equal(a.Threshold, 10);
    assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(a.EvaluationPeriods, 3);
    assert.equal(a.DatapointsToAlarm, 3);
    assert.equal(a.TreatMissingData, 'notBreaching', 'no invocation, no data: not an alarm');
    assert.match(a.AlarmDescription, /REQUESTS_PER_SECOND.*MAX_CONCURRENCY/);
  });

  it('ProvisioningLagHigh: p90 over 15 min ≥ 30 min, above a 500-user bulk load at 2 requests/s', () => {
    const a = alarm('ProvisioningLagHigh');
    assert.equal(a.Namespace, 'OktaConnect');
    assert.equal(a.MetricName, 'ProvisioningLag');
    assert.deepEqual(a.Dimensions, [{ Name: 'Stack', Value: 'OktaConnect' }]);
    assert.equal(a.ExtendedStatistic, 'p90');
    assert.equal(a.Statistic, undefined);
    assert.equal(a.Period, 900);
    assert.equal(a.Threshold, 30 * 60 * 1000, 'milliseconds, the unit the worker writes');
    assert.equal(a.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(a.TreatMissingData, 'notBreaching');
    // The bulk load that must not trip it: 500 users × ~4 Connect calls at 2 requests/s.
    const bulkLoadLastUserMs = ((500 * 4) / 2) * 1000;
    assert.ok(bulkLoadLastUserMs < a.Threshold, `${bulkLoadLastUserMs} ms`);
    // ... and a worst-case retried batch on top of it still fits.
    assert.ok(bulkLoadLastUserMs + WORKER_TIMEOUT.toMilliseconds() < a.Threshold);
  });
});
