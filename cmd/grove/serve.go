package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/groveos/grove/core/repo"
	"github.com/groveos/grove/core/serve"
)

func init() { register(newServeCmd) }

func newServeCmd() *cobra.Command {
	var port int
	var address, cert, key string
	var logRequests bool
	cmd := &cobra.Command{
		Use:   "serve [--port=N] [--tls-cert=FILE --tls-key=FILE] REPO",
		Short: "Serve an archive repository over HTTP(S), read-only",
		Long: "Serve REPO (an archive repository) as a static server would, for `pull` clients:\n" +
			"ranges, ETag and If-Modified-Since, real 404s, nothing outside the repository.\n" +
			"It prints the URL it listens on, then serves until interrupted.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if (cert == "") != (key == "") {
				return errors.New("--tls-cert and --tls-key go together")
			}
			r, err := repo.Open(ctx, args[0])
			if err != nil {
				return fmt.Errorf("opening repo %s: %w", args[0], err)
			}
			h, closeRoot, err := serve.Handler(r)
			if err != nil {
				return err
			}
			defer closeRoot()
			if logRequests {
				h = logged(h)
			}
			ln, err := net.Listen("tcp", net.JoinHostPort(address, strconv.Itoa(port)))
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
			scheme := "http"
			if cert != "" {
				scheme = "https"
			}
			host := address
			if host == "" || host == "0.0.0.0" || host == "::" {
				host = "127.0.0.1"
			}
			_, p, _ := net.SplitHostPort(ln.Addr().String())
			fmt.Printf("Serving %s on %s://%s/\n", args[0], scheme, net.JoinHostPort(host, p))
			errc := make(chan error, 1)
			go func() {
				if cert != "" {
					errc <- srv.ServeTLS(ln, cert, key)
				} else {
					errc <- srv.Serve(ln)
				}
			}()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				return srv.Shutdown(sctx)
			}
		},
	}
	f := cmd.Flags()
	f.IntVar(&port, "port", 8000, "TCP port to listen on (0 picks a free one)")
	f.StringVar(&address, "address", "", "address to listen on (default: every interface)")
	f.StringVar(&cert, "tls-cert", "", "serve HTTPS with this PEM certificate")
	f.StringVar(&key, "tls-key", "", "the PEM private key of --tls-cert")
	f.BoolVar(&logRequests, "log", false, "log each request on standard error")
	return cmd
}

// logged writes "METHOD PATH STATUS" lines on standard error.
func logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		fmt.Fprintf(os.Stderr, "%s %s %d\n", r.Method, r.URL.Path, sw.status)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
