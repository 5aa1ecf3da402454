package server

import (
	"context"

	"github.com/parleyhq/parley/insights"
)

// Names of the operator's metrics of store latency and queue depths
// (docs/operations.md, "Store latency and queues"; docs/alerts.yml).
const (
	metricStoreLatency = "parley_store_op_duration_seconds"
	metricQueueDepth   = "parley_queue_depth"
	metricQueueCap     = "parley_queue_capacity"
)

// opsMetrics reports how long the store takes on the message path and how
// deep the in-memory queues are. The histograms are atomic counters read
// at scrape time; the queue depths are read at scrape time too, so the
// senders pay nothing for the gauges.
func opsMetrics(s *Server) insights.MetricSource {
	return func(context.Context) ([]insights.Metric, error) {
		const latHelp = "Store operations on the message path, by operation: append (group commit of new messages), ack (cursor writes), read_log (catch-up reads), cursors, member, conv_member (membership cache misses), webhook_enqueue and webhook_delivered (outbox group commits), insights_record."
		var out []insights.Metric
		for _, l := range s.Delivery.StoreLatency() {
			out = append(out, insights.Histogram(metricStoreLatency, latHelp, l.Snapshot, "op", l.Op)...)
		}
		enq, dlv := s.Webhooks.WriteLatency()
		out = append(out, insights.Histogram(metricStoreLatency, latHelp, enq, "op", "webhook_enqueue")...)
		out = append(out, insights.Histogram(metricStoreLatency, latHelp, dlv, "op", "webhook_delivered")...)
		out = append(out, insights.Histogram(metricStoreLatency, latHelp, s.Insights.RecordLatency(), "op", "insights_record")...)

		const depthHelp = "Items waiting in an in-memory queue, by queue: delivery_append (sends waiting for the group commit), delivery_publish, delivery_ack, delivery_presence, gateway_frames (frames queued for writing, all sessions), push (Web Push notifications), groupcommit_webhook and groupcommit_insights (writes waiting behind the commit in progress)."
		const capHelp = "The depth at which a queue's producers block or drop; for gateway_session_max, one session's limit."
		for _, q := range s.Delivery.Queues() {
			out = append(out,
				gauge(metricQueueDepth, depthHelp, float64(q.Depth), "queue", "delivery_"+q.Name),
				gauge(metricQueueCap, capHelp, float64(q.Cap), "queue", "delivery_"+q.Name))
		}
		frames, deepest := s.Gateway.Queues()
		out = append(out,
			gauge(metricQueueDepth, depthHelp, float64(frames), "queue", "gateway_frames"),
			gauge(metricQueueDepth, depthHelp, float64(deepest), "queue", "gateway_session_max"),
			gauge(metricQueueCap, capHelp, float64(s.Gateway.QueueLimit()), "queue", "gateway_session_max"),
			gauge(metricQueueDepth, depthHelp, float64(s.Webhooks.Batching()), "queue", "groupcommit_webhook"),
			gauge(metricQueueDepth, depthHelp, float64(s.Insights.Batching()), "queue", "groupcommit_insights"))
		if s.Push != nil {
			depth, capacity := s.Push.Queue()
			st := s.Push.Stats()
			const sent, sentHelp = "parley_push_notifications_total", "Web Push notifications since start, by result."
			out = append(out,
				gauge(metricQueueDepth, depthHelp, float64(depth), "queue", "push"),
				gauge(metricQueueCap, capHelp, float64(capacity), "queue", "push"),
				counter(sent, sentHelp, uint64(st.Sent), "result", "sent"),
				counter(sent, sentHelp, uint64(st.Failed), "result", "failed"),
				counter(sent, sentHelp, uint64(st.Gone), "result", "gone"),
				counter(sent, sentHelp, uint64(st.Dropped), "result", "dropped"))
		}
		return out, nil
	}
}
