package hl7v2

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReaderFraming(t *testing.T) {
	stream := "noise\x0bMSG1\x1c\x0d\x0bMSG\r2\x1c\x0d"
	r := NewReader(strings.NewReader(stream), 10)
	for _, want := range []string{"MSG1", "MSG\r2"} {
		got, err := r.ReadMessage()
		if err != nil || string(got) != want {
			t.Fatalf("ReadMessage = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
	tests := []struct {
		name, stream string
		want         error
	}{
		{"too large", "\x0b0123456789A\x1c\x0d", ErrFrameTooLarge},
		{"too large and cut short", "\x0b0123456789A", io.ErrUnexpectedEOF},
		{"cut short", "\x0bMSG", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		if _, err := NewReader(strings.NewReader(tt.stream), 10).ReadMessage(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := NewReader(strings.NewReader("\x0bMSG\x1cX"), 10).ReadMessage(); err == nil {
		t.Error("end block without CR accepted")
	}
	var buf bytes.Buffer
	if err := WriteMessage(&buf, []byte("A|B")); err != nil || buf.String() != "\x0bA|B\x1c\x0d" {
		t.Errorf("WriteMessage wrote %q, %v", buf.String(), err)
	}
}

// startServer runs an MLLP server of the intake on a loopback port.
func startServer(t *testing.T, max int, deposited *[]map[string]any) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	in := fixedIntake(func(_ context.Context, b map[string]any) error {
		mu.Lock()
		defer mu.Unlock()
		*deposited = append(*deposited, b)
		return nil
	})
	srv := &Server{Handler: in.Handle, MaxSize: max, IdleTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

func exchange(t *testing.T, c net.Conn, r *Reader, msg string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := WriteMessage(c, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	ack, err := r.ReadMessage()
	if err != nil {
		t.Fatalf("reading the ACK: %v", err)
	}
	return string(ack)
}

func TestServerOverTCP(t *testing.T) {
	var deposited []map[string]any
	addr := startServer(t, 4096, &deposited)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := NewReader(c, 0)
	second := strings.Replace(oruLipids, "|MSG00001|", "|MSG00002|", 1)
	steps := []struct{ msg, want string }{
		{oruLipids, "MSA|AA|MSG00001\r"},
		{second, "MSA|AA|MSG00002\r"},
		{"garbage, not HL7", "MSA|AR|\rERR|||100^"},
		{strings.Replace(oruLipids, "|5.20|", "|five|", 1), "MSA|AE|MSG00001\rERR||OBX^1^5^1|102^"},
	}
	for i, s := range steps {
		if ack := exchange(t, c, r, s.msg); !strings.Contains(ack, s.want) {
			t.Errorf("message %d on one connection: ACK %q, want it to contain %q", i+1, ack, s.want)
		}
	}
	if len(deposited) != 2 {
		t.Errorf("%d deposits, want 2 (the AE and AR messages store nothing)", len(deposited))
	}
}

func TestServerRefusesTooLarge(t *testing.T) {
	var deposited []map[string]any
	addr := startServer(t, 200, &deposited)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := NewReader(c, 0)
	ack := exchange(t, c, r, oruLipids)
	if !strings.Contains(ack, "MSA|AR|MSG00001\r") || !strings.Contains(ack, "larger than 200 bytes") {
		t.Errorf("ACK %q, want AR naming the limit", ack)
	}
	if len(deposited) != 0 {
		t.Error("a refused frame was deposited")
	}
	small := header + "PID|||1^^^H^MR\rOBR|1||F1|X^Y^LN" + strings.Repeat("|", 21) + "F\r"
	if ack := exchange(t, c, r, small); !strings.Contains(ack, "MSA|AA|C1\r") {
		t.Errorf("the message after a refused one: ACK %q, want AA", ack)
	}
}

// After a frame too large, the Reader is at the next frame.
func TestReaderSkipsTooLarge(t *testing.T) {
	r := NewReader(strings.NewReader("\x0b0123456789ABC\x1c\x0d\x0bnext\x1c\x0d"), 10)
	first, err := r.ReadMessage()
	if !errors.Is(err, ErrFrameTooLarge) || string(first) != "0123456789" {
		t.Fatalf("first = %q, %v", first, err)
	}
	if next, err := r.ReadMessage(); err != nil || string(next) != "next" {
		t.Errorf("next = %q, %v", next, err)
	}
}
