// Package hostile is a participant that breaks the rules on purpose, for
// the attack tests: built on package client, it can send any offer (any
// number of simulcast layers, m-lines or candidates), any sequence of
// messages, and raw WebSocket frames, control frames included. Every
// weakness it found is held by a test in internal/server's
// hostile_*_test.go, with an honest meeting running beside the attack.
package hostile
