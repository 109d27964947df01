// The stack's CloudWatch dashboard and the names of the metrics the Lambdas write
// themselves (Embedded Metric Format lines in their logs: no API call, no permission).
//
// Every okta-connect metric is in namespace OktaConnect with one dimension, Stack = the
// stack's name, so two stacks in one account keep their own series. The names here
// must match the Rust constants: crates/ingest/src/metrics.rs, crates/worker/src/metrics.rs
// and crates/reconcile/src/lib.rs (Summary::metrics).
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/** The namespace of every metric the Lambdas write (dimension Stack). */
export const METRICS_NAMESPACE = 'OktaConnect';

/** Ingest, per request with events or a refusal (crates/ingest/src/metrics.rs). */
export const INGEST_METRICS = {
  received: 'IngestReceived',
  queued: 'IngestQueued',
  unauthorized: 'IngestUnauthorized',
  rejected: 'IngestRejected',
  deadLettered: 'IngestDeadLettered',
  trimmed: 'IngestTrimmed',
} as const;

/** Worker, one line per invocation: one count per message's outcome (Count). */
export const WORKER_OUTCOMES = {
  created: 'WorkerCreated',
  updated: 'WorkerUpdated',
  revoked: 'WorkerRevoked',
  unchanged: 'WorkerUnchanged',
  duplicate: 'WorkerDuplicate',
  notRelevant: 'WorkerNotRelevant',
  retried: 'WorkerRetried',
  deadLettered: 'WorkerDeadLettered',
} as const;

/** Worker: per converged Okta event, Milliseconds from its `published` to the batch's end. */
export const PROVISIONING_LAG_METRIC = 'ProvisioningLag';

/**
 * Worker, one line per invocation: Connect calls answered with throttling (429) while
 * processing its messages, retries included (Count). Paced under the account's quotas,
 * the worker should see none.
 */
export const CONNECT_THROTTLES_METRIC = 'ConnectThrottles';

/** Reconcile, one line per real run (Count). */
export const RECONCILE_METRICS = {
  users: 'ReconcileUsers',
  queued: 'ReconcileQueued',
  revocations: 'ReconcileRevocations',
  conflicts: 'ReconcileConflicts',
  stoppedAtCap: 'ReconcileStoppedAtCap',
  connectThrottles: 'ReconcileConnectThrottles',
} as const;

/** One of this stack's own metrics. */
export function stackMetric(
  stack: Stack,
  metricName: string,
  props: { period: Duration; statistic: string; label?: string },
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { Stack: stack.stackName },
    ...props,
  });
}

export interface DashboardProps {
  api: apigw.HttpApi;
  ingest: lambda.Function;
  worker: lambda.Function;
  reconcile?: lambda.Function;
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
  alarms: cloudwatch.Alarm[];
  /** Where the queue-age and lag alarms trip, drawn on their graphs. */
  queueAgeAlarm: Duration;
  lagAlarmMs: number;
  /** Connect throttles per 5 min at which the ConnectThrottling alarm counts a period, drawn on its graph. */
  connectThrottleAlarm?: number;
}

// Graphs sum counts over 5 minutes: short enough to see a bulk load's shape, long enough
// that a trickle of events is not a row of isolated dots.
const GRAPH_PERIOD = Duration.minutes(5);
// A reconcile run leaves one datapoint per run (daily by default): hourly bars.
const RUN_PERIOD = Duration.hours(1);
const FULL = 24;

/** The dashboard: ingest, queue, worker, reconcile (with [OktaApi]) and the alarms. */
export function addDashboard(stack: Stack, props: DashboardProps): cloudwatch.Dashboard {
  const own = (name: string, statistic = 'Sum', label?: string, period = GRAPH_PERIOD) =>
    stackMetric(stack, name, { period, statistic, label });
  // Dashboard names allow letters, digits, "-" and "_", as stack names do (letters,
  // digits, "-"): the stack's own name is valid and unique in its Region.
  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', {
    dashboardName: stack.stackName,
    defaultInterval: Duration.hours(3),
  });
  const graph = (title: string, left: cloudwatch.IMetric[], more: Partial<cloudwatch.GraphWidgetProps> = {}) =>
    new cloudwatch.GraphWidget({ title, left, width: FULL / 3, height: 6, ...more });

  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown:
        `# ${stack.stackName}: Okta → Connect\n` +
        'Okta event hook → API → ingest → queue → worker → Amazon Connect. Counts are sums per 5 min; ' +
        'metrics in namespace `OktaConnect`, dimension `Stack` (infra/README.md, *Metrics*).',
      width: FULL,
      height: 2,
    }),
  );
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: FULL, height: 3 }));

  // ---- Ingest: what Okta sent and how it was answered.
  dashboard.addWidgets(
    graph('Hook requests (API)', [
      props.api.metricCount({ period: GRAPH_PERIOD, statistic: 'Sum', label: 'requests' }),
      props.api.metricClientError({ period: GRAPH_PERIOD, statistic: 'Sum', label: '4xx (Okta never retries)' }),
      props.api.metricServerError({ period: GRAPH_PERIOD, statistic: 'Sum', label: '5xx (Okta retries once)' }),
    ]),
    graph('Ingest', [
      own(INGEST_METRICS.received, 'Sum', 'events received'),
      own(INGEST_METRICS.queued, 'Sum', 'events queued'),
      own(INGEST_METRICS.unauthorized, 'Sum', '401: wrong or missing secret'),
      own(INGEST_METRICS.rejected, 'Sum', 'other 4xx: too large, not JSON, nothing usable'),
      own(INGEST_METRICS.deadLettered, 'Sum', 'events to the DLQ (unusable)'),
      own(INGEST_METRICS.trimmed, 'Sum', 'events trimmed to fit SQS'),
      props.ingest.metricErrors({ period: GRAPH_PERIOD, statistic: 'Sum', label: 'Lambda errors' }),
    ]),
    graph('Ingest duration', [
      props.ingest.metricDuration({ period: GRAPH_PERIOD, statistic: 'p99', label: 'p99 (Okta waits 3 s)' }),
      props.ingest.metricDuration({ period: GRAPH_PERIOD, statistic: 'Maximum', label: 'max' }),
    ]),
  );

  // ---- Queue: what waits for the worker, and what failed for good.
  dashboard.addWidgets(
    graph('Queue depth', [
      props.queue.metricApproximateNumberOfMessagesVisible({ period: GRAPH_PERIOD, statistic: 'Maximum', label: 'waiting' }),
      props.queue.metricApproximateNumberOfMessagesNotVisible({ period: GRAPH_PERIOD, statistic: 'Maximum', label: 'in flight' }),
    ]),
    graph(
      'Age of the oldest queued event',
      [props.queue.metricApproximateAgeOfOldestMessage({ period: GRAPH_PERIOD, statistic: 'Maximum', label: 'seconds' })],
      { leftAnnotations: [{ value: props.queueAgeAlarm.toSeconds(), label: 'QueueBacklogOld alarm' }] },
    ),
    graph(
      'Dead-letter queue depth',
      [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: GRAPH_PERIOD, statistic: 'Maximum', label: 'messages (redrive after fixing)' })],
    ),
  );

  // ---- Worker: what each message ended in, how late, and what held it back (four graphs).
  const o = WORKER_OUTCOMES;
  const quarter = { width: FULL / 4 };
  dashboard.addWidgets(
    graph(
      'Worker outcomes (messages)',
      [
        own(o.created, 'Sum', 'created'),
        own(o.updated, 'Sum', 'updated'),
        own(o.revoked, 'Sum', 'revoked'),
        own(o.unchanged, 'Sum', 'unchanged'),
        own(o.duplicate, 'Sum', 'duplicate'),
        own(o.notRelevant, 'Sum', 'not relevant'),
        own(o.retried, 'Sum', 'failed, retried'),
        own(o.deadLettered, 'Sum', 'failed, dead-lettered'),
      ],
      { stacked: true, ...quarter },
    ),
    graph(
      'Provisioning lag (Okta published → Connect converged)',
      [
        own(PROVISIONING_LAG_METRIC, 'p50', 'p50 ms'),
        own(PROVISIONING_LAG_METRIC, 'p90', 'p90 ms'),
        own(PROVISIONING_LAG_METRIC, 'Maximum', 'max ms'),
      ],
      { leftAnnotations: [{ value: props.lagAlarmMs, label: 'ProvisioningLagHigh alarm (p90)' }], ...quarter },
    ),
    // Every Connect call answered 429, whether a retry inside the invocation got through
    // or the message was handed back. The worker paces under the account's quotas, so
    // this stays at 0; a sustained count means the pace is above the account's quota
    // ([Connect] REQUESTS_PER_SECOND, [Deploy] MAX_CONCURRENCY above BURST) or another
    // client shares it. The worker log names each refused API.
    graph(
      'Connect throttles',
      [own(CONNECT_THROTTLES_METRIC, 'Sum', 'Connect calls answered 429 (retried)')],
      {
        ...quarter,
        ...(props.connectThrottleAlarm === undefined
          ? {}
          : { leftAnnotations: [{ value: props.connectThrottleAlarm, label: 'ConnectThrottling alarm (sustained)' }] }),
      },
    ),
    // Lambda throttles mean the account's concurrency is exhausted.
    graph(
      'Throttles and failures',
      [
        props.worker.metricThrottles({ period: GRAPH_PERIOD, statistic: 'Sum', label: 'worker Lambda throttles' }),
        props.worker.metricErrors({ period: GRAPH_PERIOD, statistic: 'Sum', label: 'worker Lambda errors (crash, timeout)' }),
        own(o.retried, 'Sum', 'messages handed back (incl. Connect throttling past the deadline)'),
      ],
      quarter,
    ),
  );

  // ---- Reconcile (with [OktaApi]): one datapoint per run.
  if (props.reconcile) {
    const r = RECONCILE_METRICS;
    dashboard.addWidgets(
      graph(
        'Reconcile runs',
        [own(r.queued, 'Sum', 'users queued', RUN_PERIOD), own(r.revocations, 'Sum', 'revocations planned', RUN_PERIOD)],
        { width: FULL / 2 },
      ),
      graph(
        'Reconcile problems',
        [
          own(r.conflicts, 'Sum', 'conflicts', RUN_PERIOD),
          own(r.stoppedAtCap, 'Sum', 'stopped at the revocation cap', RUN_PERIOD),
          own(r.connectThrottles, 'Sum', 'SearchUsers pages throttled (retried)', RUN_PERIOD),
          props.reconcile.metricErrors({ period: RUN_PERIOD, statistic: 'Sum', label: 'failed runs' }),
        ],
        { width: FULL / 2 },
      ),
    );
  }
  return dashboard;
}

/** The dashboard's console address, for the DashboardUrl output. */
export function dashboardUrl(stack: Stack, dashboard: cloudwatch.Dashboard): string {
  return `https://${stack.region}.console.aws.amazon.com/cloudwatch/home?region=${stack.region}#dashboards:name=${dashboard.dashboardName}`;
}
