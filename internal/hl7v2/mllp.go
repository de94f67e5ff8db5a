package hl7v2

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// MLLP framing (HL7 v2 Minimal Lower Layer Protocol, release 2): a message
// is sent as 0x0B, the message, 0x1C 0x0D.
const (
	startBlock = 0x0b
	endBlock   = 0x1c
	carriage   = 0x0d
)

// DefaultMaxFrame is the largest message a Reader accepts unless told otherwise.
const DefaultMaxFrame = 1 << 20

// ErrFrameTooLarge is returned by ReadMessage for a message above the limit.
var ErrFrameTooLarge = errors.New("mllp: message larger than the limit")

// Reader reads MLLP frames.
type Reader struct {
	r   *bufio.Reader
	max int
}

// NewReader returns a Reader of frames of at most max bytes
// (DefaultMaxFrame when max <= 0).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &Reader{r: bufio.NewReader(r), max: max}
}

// ReadMessage returns the next message without its framing. Bytes before
// a start block are skipped, as the protocol says. It returns io.EOF at a
// clean end of stream; ErrFrameTooLarge with the first max bytes when the
// message is too large, having skipped the rest of its frame so the next
// message can be read; another error for a frame cut short or ended badly.
func (r *Reader) ReadMessage() ([]byte, error) {
	for {
		b, err := r.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == startBlock {
			break
		}
	}
	var msg []byte
	tooLarge := false
	for {
		b, err := r.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("mllp: frame cut short: %w", err)
		}
		if b == endBlock {
			next, err := r.r.ReadByte()
			if err != nil || next != carriage {
				return nil, errors.New("mllp: end block not followed by a carriage return")
			}
			if tooLarge {
				return msg, ErrFrameTooLarge
			}
			return msg, nil
		}
		if len(msg) >= r.max {
			tooLarge = true
			continue
		}
		msg = append(msg, b)
	}
}

// WriteMessage writes msg as one MLLP frame.
func WriteMessage(w io.Writer, msg []byte) error {
	frame := make([]byte, 0, len(msg)+3)
	frame = append(frame, startBlock)
	frame = append(frame, msg...)
	frame = append(frame, endBlock, carriage)
	_, err := w.Write(frame)
	return err
}

// Server answers HL7 v2 messages over MLLP: each message on a connection
// is passed to Handler in turn and its answer written back.
type Server struct {
	// Handler returns the acknowledgment of a message (Intake.Handle);
	// RemoteAddr(ctx) is the peer's address.
	Handler func(ctx context.Context, msg []byte) (ack []byte)
	// MaxSize is the largest message accepted (DefaultMaxFrame when 0): a
	// larger one is skipped and answered AR.
	MaxSize int
	// IdleTimeout closes a connection that sends nothing for this long
	// (5 minutes when 0).
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

// Serve accepts connections on l until ctx is done, then closes l and
// every connection and returns once their handlers have finished.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		conn, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("mllp: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, conn)
		}()
	}
}

// remoteKey holds the address of the MLLP peer a message came from.
type remoteKey struct{}

// RemoteAddr is the address of the MLLP peer whose message the Handler
// called with ctx is processing ("" outside a Server's handler).
func RemoteAddr(ctx context.Context) string {
	a, _ := ctx.Value(remoteKey{}).(string)
	return a
}

func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	ctx = context.WithValue(ctx, remoteKey{}, conn.RemoteAddr().String())
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	r := NewReader(conn, s.MaxSize)
	for {
		conn.SetReadDeadline(time.Now().Add(idle))
		msg, err := r.ReadMessage()
		if errors.Is(err, ErrFrameTooLarge) {
			s.log().Warn("mllp: message too large", "remote", conn.RemoteAddr().String(), "limit", r.max)
			reject := rejectAt(Location{}, CodeInternal, "message larger than %d bytes: refused", r.max)
			if err := WriteMessage(conn, Ack(nil, msg, reject, "ACK-TOO-LARGE", time.Now())); err != nil {
				return
			}
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.log().Info("mllp: connection closed", "remote", conn.RemoteAddr().String(), "err", err)
			}
			return
		}
		if err := WriteMessage(conn, s.Handler(ctx, msg)); err != nil {
			s.log().Info("mllp: write acknowledgment", "remote", conn.RemoteAddr().String(), "err", err)
			return
		}
	}
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
