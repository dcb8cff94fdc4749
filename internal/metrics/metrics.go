// Package metrics exposes the server's counters for Prometheus: only
// aggregates (packets, meetings, participants), never anything about a
// meeting or a person.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/sfu"
)

// Handler serves the metrics of engine and registry in the Prometheus text
// format.
func Handler(engine *sfu.Engine, registry *room.Registry) http.Handler {
	reg := prometheus.NewRegistry()
	stats := engine.Stats()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "plausch_rtp_packets_received_total",
			Help: "RTP packets received from publishers.",
		}, func() float64 { return float64(stats.Received.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "plausch_rtp_packets_forwarded_total",
			Help: "RTP packets sent to subscribers.",
		}, func() float64 { return float64(stats.Forwarded.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "plausch_rtp_packets_retransmitted_total",
			Help: "RTP packets sent again to subscribers that reported them lost (NACK), from the shared packet cache.",
		}, func() float64 { return float64(stats.Retransmitted.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "plausch_meetings",
			Help: "Meetings running now.",
		}, func() float64 { return float64(registry.Rooms()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "plausch_participants",
			Help: "Participants in meetings now, waiting ones included.",
		}, func() float64 { return float64(registry.Participants()) }),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
