package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// server is a PostgreSQL started from the local binaries in a temporary
// directory. It runs postgres directly rather than through pg_ctl, as a
// child that is signalled when the test binary dies, so a crashed or killed
// test run does not leave a server behind.
type server struct {
	dir  string // holds data/, the socket and server.log
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when the server process has exited
	err  error         // the process's exit status, once done
}

// findBin returns the bin directory of the highest installed PostgreSQL
// version, or "" when there is none.
func findBin() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	version := func(path string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
		return n
	}
	slices.SortFunc(matches, func(a, b string) int { return version(a) - version(b) })
	if len(matches) == 0 {
		return ""
	}
	return filepath.Dir(matches[len(matches)-1])
}

// settings tune the throwaway server for speed: no durability at all.
var settings = []string{
	"fsync = off",
	"synchronous_commit = off",
	"full_page_writes = off",
	"max_connections = 300",
	"deadlock_timeout = '200ms'",
	"log_min_messages = warning",
	"log_checkpoints = off",
}

// startServer creates a cluster in a new temporary directory and starts it.
func startServer(ctx context.Context, bin string) (*server, error) {
	owner, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tempBase(owner), "ehealth-pgtest-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, done: make(chan struct{})}
	if err := s.init(ctx, bin, owner); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.run(ctx, bin, owner); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// serverUser is the account to run PostgreSQL as: postgres when we are root
// (initdb refuses to run as root), nil (ourselves) otherwise.
func serverUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user to run the server as: %w", err)
	}
	return u, nil
}

// tempBase is where the server directory goes: the temp dir, unless the
// server runs as another user who cannot reach it.
func tempBase(owner *user.User) string {
	base := os.TempDir()
	if fi, err := os.Stat(base); owner != nil && (err != nil || fi.Mode().Perm()&0o001 == 0) {
		return "/tmp"
	}
	return base
}

// init runs initdb and writes the settings.
func (s *server) init(ctx context.Context, bin string, owner *user.User) error {
	if owner != nil {
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return err
		}
	}
	data := filepath.Join(s.dir, "data")
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = procAttr(owner)
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	conf := append(slices.Clone(settings),
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", port),
		fmt.Sprintf("unix_socket_directories = '%s'", s.dir))
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n# pgtest\n" + strings.Join(conf, "\n") + "\n")
	return errors.Join(err, f.Close())
}

// run starts postgres and waits until it accepts connections.
func (s *server) run(ctx context.Context, bin string, owner *user.User) error {
	logFile, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(s.dir, "data"))
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = procAttr(owner)
	s.cmd.Dir = s.dir
	if err := s.cmd.Start(); err != nil {
		close(s.done)
		return fmt.Errorf("start postgres: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		return fmt.Errorf("%w\nserver log:\n%s", err, s.log())
	}
	return nil
}

// waitReady polls until the server answers, exits, or ctx ends.
func (s *server) waitReady(ctx context.Context) error {
	for {
		attempt, cancel := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(attempt, s.dsn("postgres"))
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited during startup: %v", s.err)
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// dsn connects over the server's unix socket.
func (s *server) dsn(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.dir, s.port, db)
}

func (s *server) log() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// stop shuts the server down (fast shutdown, then kill) and removes its directory.
func (s *server) stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
			err = fmt.Errorf("postgres did not stop in 10s; killed\nserver log:\n%s", s.log())
		}
	}
	return errors.Join(err, os.RemoveAll(s.dir))
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
