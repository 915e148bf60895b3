package verify

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Iperf is what mosc reads from `iperf3 -c … -J` (the client's JSON report).
type Iperf struct {
	Version string `json:"version,omitempty"`
	// Streams is the number of parallel connections (-P).
	Streams int     `json:"streams"`
	Seconds float64 `json:"seconds"`
	// SentBps and ReceivedBps are end.sum_sent / end.sum_received bits_per_second:
	// what the client sent, and what the server acknowledged receiving.
	SentBps     float64 `json:"sentBitsPerSecond"`
	ReceivedBps float64 `json:"receivedBitsPerSecond"`
	Retransmits int64   `json:"retransmits"`
	// Error is iperf3's own "error" (connection refused, server busy, ...).
	Error string `json:"error,omitempty"`
}

// ReceivedGbps is the figure iperf3 prints on its "receiver" line, in Gbit/s.
func (r *Iperf) ReceivedGbps() float64 { return r.ReceivedBps / 1e9 }

// ParseIperf decodes iperf3's -J output. The fields are those of iperf3's
// iperf_api.c JSON writer (esnet/iperf): start.version, start.connected[],
// end.sum_sent{seconds,bits_per_second,retransmits},
// end.sum_received{bits_per_second}, and a top-level "error" on failure.
func ParseIperf(data []byte) (*Iperf, error) {
	type sum struct {
		Seconds     *float64 `json:"seconds"`
		BPS         *float64 `json:"bits_per_second"`
		Retransmits int64    `json:"retransmits"`
	}
	var doc struct {
		Start struct {
			Version   string            `json:"version"`
			Connected []json.RawMessage `json:"connected"`
		} `json:"start"`
		End struct {
			SumSent     *sum `json:"sum_sent"`
			SumReceived *sum `json:"sum_received"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("iperf3 JSON: %w", err)
	}
	r := &Iperf{Version: doc.Start.Version, Streams: len(doc.Start.Connected), Error: doc.Error}
	if r.Error != "" {
		return r, nil
	}
	s, rcv := doc.End.SumSent, doc.End.SumReceived
	if s == nil || rcv == nil || s.BPS == nil || rcv.BPS == nil {
		return nil, errors.New("iperf3 JSON: no end.sum_sent/sum_received bits_per_second (a UDP or cut-short report?)")
	}
	if *s.BPS < 0 || *rcv.BPS < 0 || s.Retransmits < 0 {
		return nil, fmt.Errorf("iperf3 JSON: negative rate or retransmits")
	}
	r.SentBps, r.ReceivedBps, r.Retransmits = *s.BPS, *rcv.BPS, s.Retransmits
	if s.Seconds != nil {
		r.Seconds = *s.Seconds
	}
	return r, nil
}
