// Command gost is tunnelwire's stand-in for the gost v3.2.6 command (github.com/go-gost/gost,
// commit 340ba32ef0be), for machines whose Go module proxy refuses that module but serves the
// libraries it is built from (go-gost/x, go-gost/core, ...).
//
// All the work is done by go-gost/x at the version gost v3.2.6 pins (v0.8.1): the -L/-F
// command line is turned into a config by x/config/cmd (through x/config/parsing/parser, which
// also merges a -C file and applies -D), the config is loaded into the x registries by
// x/config/loader, and the services it registered are served. This file only provides the
// command-line surface, the component set and the process lifecycle.
//
// Command line (same flags as gost v3.2.6):
//
//	-L url       service, repeatable           -F url      chain node, repeatable
//	-C file      configuration file (yaml/json, "-" = stdin, or inline JSON)
//	-D / -DD     debug / trace logging         -O format   print the merged config (yaml|json), exit
//	-api addr    API service                   -metrics addr  metrics service
//	-V           print the version and exit
//	a "--" argument splits the command line into groups, each run as its own child process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	_ "net/http/pprof" // profiling service (GOST_PROFILING / profiling: in a config) serves DefaultServeMux
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"

	coreauth "github.com/go-gost/core/auth"
	corelogger "github.com/go-gost/core/logger"
	coreservice "github.com/go-gost/core/service"
	apisvc "github.com/go-gost/x/api/service"
	xauth "github.com/go-gost/x/auth"
	"github.com/go-gost/x/config"
	"github.com/go-gost/x/config/loader"
	authparsing "github.com/go-gost/x/config/parsing/auth"
	"github.com/go-gost/x/config/parsing/parser"
	xlogger "github.com/go-gost/x/logger"
	xmetrics "github.com/go-gost/x/metrics"
	metricssvc "github.com/go-gost/x/metrics/service"
	"github.com/go-gost/x/registry"
	"github.com/judwhite/go-svc"

	// The components gost v3.2.6 compiles in: every connector, dialer, handler and listener
	// package of go-gost/x v0.8.1 that registers itself, except dialer/wg, which x v0.8.1 has
	// but gost v3.2.6 does not import. Kept sorted; README.md says how this set was checked.

	// connectors
	_ "github.com/go-gost/x/connector/direct"
	_ "github.com/go-gost/x/connector/forward"
	_ "github.com/go-gost/x/connector/http"
	_ "github.com/go-gost/x/connector/http2"
	_ "github.com/go-gost/x/connector/relay"
	_ "github.com/go-gost/x/connector/router"
	_ "github.com/go-gost/x/connector/serial"
	_ "github.com/go-gost/x/connector/sni"
	_ "github.com/go-gost/x/connector/socks/v4"
	_ "github.com/go-gost/x/connector/socks/v5"
	_ "github.com/go-gost/x/connector/ss"
	_ "github.com/go-gost/x/connector/ss/udp"
	_ "github.com/go-gost/x/connector/sshd"
	_ "github.com/go-gost/x/connector/tcp"
	_ "github.com/go-gost/x/connector/tunnel"
	_ "github.com/go-gost/x/connector/unix"

	// dialers
	_ "github.com/go-gost/x/dialer/direct"
	_ "github.com/go-gost/x/dialer/dtls"
	_ "github.com/go-gost/x/dialer/ftcp"
	_ "github.com/go-gost/x/dialer/grpc"
	_ "github.com/go-gost/x/dialer/http2"
	_ "github.com/go-gost/x/dialer/http2/h2"
	_ "github.com/go-gost/x/dialer/http3"
	_ "github.com/go-gost/x/dialer/http3/wt"
	_ "github.com/go-gost/x/dialer/icmp"
	_ "github.com/go-gost/x/dialer/kcp"
	_ "github.com/go-gost/x/dialer/mtcp"
	_ "github.com/go-gost/x/dialer/mtls"
	_ "github.com/go-gost/x/dialer/mws"
	_ "github.com/go-gost/x/dialer/obfs/http"
	_ "github.com/go-gost/x/dialer/obfs/tls"
	_ "github.com/go-gost/x/dialer/pht"
	_ "github.com/go-gost/x/dialer/quic"
	_ "github.com/go-gost/x/dialer/serial"
	_ "github.com/go-gost/x/dialer/ssh"
	_ "github.com/go-gost/x/dialer/sshd"
	_ "github.com/go-gost/x/dialer/tcp"
	_ "github.com/go-gost/x/dialer/tls"
	_ "github.com/go-gost/x/dialer/udp"
	_ "github.com/go-gost/x/dialer/unix"
	_ "github.com/go-gost/x/dialer/ws"

	// handlers
	_ "github.com/go-gost/x/handler/api"
	_ "github.com/go-gost/x/handler/auto"
	_ "github.com/go-gost/x/handler/dns"
	_ "github.com/go-gost/x/handler/file"
	_ "github.com/go-gost/x/handler/forward/local"
	_ "github.com/go-gost/x/handler/forward/remote"
	_ "github.com/go-gost/x/handler/http"
	_ "github.com/go-gost/x/handler/http2"
	_ "github.com/go-gost/x/handler/http3"
	_ "github.com/go-gost/x/handler/metrics"
	_ "github.com/go-gost/x/handler/redirect/tcp"
	_ "github.com/go-gost/x/handler/redirect/udp"
	_ "github.com/go-gost/x/handler/relay"
	_ "github.com/go-gost/x/handler/router"
	_ "github.com/go-gost/x/handler/serial"
	_ "github.com/go-gost/x/handler/sni"
	_ "github.com/go-gost/x/handler/socks/v4"
	_ "github.com/go-gost/x/handler/socks/v5"
	_ "github.com/go-gost/x/handler/ss"
	_ "github.com/go-gost/x/handler/ss/udp"
	_ "github.com/go-gost/x/handler/sshd"
	_ "github.com/go-gost/x/handler/tap"
	_ "github.com/go-gost/x/handler/tun"
	_ "github.com/go-gost/x/handler/tungo"
	_ "github.com/go-gost/x/handler/tunnel"
	_ "github.com/go-gost/x/handler/unix"

	// listeners
	_ "github.com/go-gost/x/listener/dns"
	_ "github.com/go-gost/x/listener/dtls"
	_ "github.com/go-gost/x/listener/ftcp"
	_ "github.com/go-gost/x/listener/grpc"
	_ "github.com/go-gost/x/listener/http2"
	_ "github.com/go-gost/x/listener/http2/h2"
	_ "github.com/go-gost/x/listener/http3"
	_ "github.com/go-gost/x/listener/http3/h3"
	_ "github.com/go-gost/x/listener/http3/wt"
	_ "github.com/go-gost/x/listener/icmp"
	_ "github.com/go-gost/x/listener/kcp"
	_ "github.com/go-gost/x/listener/mtcp"
	_ "github.com/go-gost/x/listener/mtls"
	_ "github.com/go-gost/x/listener/mws"
	_ "github.com/go-gost/x/listener/obfs/http"
	_ "github.com/go-gost/x/listener/obfs/tls"
	_ "github.com/go-gost/x/listener/pht"
	_ "github.com/go-gost/x/listener/quic"
	_ "github.com/go-gost/x/listener/redirect/tcp"
	_ "github.com/go-gost/x/listener/redirect/udp"
	_ "github.com/go-gost/x/listener/rtcp"
	_ "github.com/go-gost/x/listener/rudp"
	_ "github.com/go-gost/x/listener/serial"
	_ "github.com/go-gost/x/listener/ssh"
	_ "github.com/go-gost/x/listener/sshd"
	_ "github.com/go-gost/x/listener/tap"
	_ "github.com/go-gost/x/listener/tcp"
	_ "github.com/go-gost/x/listener/tls"
	_ "github.com/go-gost/x/listener/tun"
	_ "github.com/go-gost/x/listener/tungo"
	_ "github.com/go-gost/x/listener/udp"
	_ "github.com/go-gost/x/listener/unix"
	_ "github.com/go-gost/x/listener/ws"
)

// gostVersion is the gost release whose behaviour this command reproduces.
const gostVersion = "3.2.6"

// xModule is the library doing the work; its version is read from the build info for -V.
const xModule = "github.com/go-gost/x"

// multiFlag collects every occurrence of a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type options struct {
	services, nodes multiFlag
	cfgFile         string
	format          string
	debug, trace    bool
	apiAddr         string
	metricsAddr     string
	version         bool
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lshortfile | log.Lmicroseconds)

	if groups := splitGroups(os.Args[1:]); len(groups) > 1 {
		os.Exit(runGroups(groups))
	}

	var o options
	fs := flag.CommandLine
	fs.Var(&o.services, "L", "service list")
	fs.Var(&o.nodes, "F", "chain node list")
	fs.StringVar(&o.cfgFile, "C", "", "configuration file")
	fs.BoolVar(&o.version, "V", false, "print version")
	fs.StringVar(&o.format, "O", "", "output format, one of yaml|json format")
	fs.BoolVar(&o.debug, "D", false, "debug mode")
	fs.BoolVar(&o.trace, "DD", false, "trace mode")
	fs.StringVar(&o.apiAddr, "api", "", "api service address")
	fs.StringVar(&o.metricsAddr, "metrics", "", "metrics service address")
	flag.Parse()

	if o.version {
		fmt.Printf("gost %s (tunnelwire wrapper over go-gost/x %s; %s %s/%s)\n",
			gostVersion, moduleVersion(xModule), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return
	}

	corelogger.SetDefault(xlogger.NewLogger())
	if err := svc.Run(&daemon{opts: o}); err != nil {
		corelogger.Default().Fatal(err)
	}
}

// moduleVersion reports the version of a dependency linked into this binary.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return "(unknown)"
}

// splitGroups cuts the arguments at each "--"; one group means a normal single-process run.
func splitGroups(args []string) [][]string {
	groups := [][]string{{}}
	for _, a := range args {
		if a == "--" {
			groups = append(groups, []string{})
			continue
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], a)
	}
	return groups
}

// runGroups runs each argument group as a child process of this same executable (with
// _GOST_ID=<index>), stops the others as soon as one ends, and returns an exit status.
func runGroups(groups [][]string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		status int
	)
	for i, g := range groups {
		cmd := exec.CommandContext(ctx, self, g...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), "_GOST_ID="+strconv.Itoa(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			if err := cmd.Run(); err != nil {
				log.Fatal(err) // as gost: a child that fails or is killed ends the whole run with 1
			}
			if cmd.ProcessState != nil && cmd.ProcessState.Exited() {
				mu.Lock()
				status = cmd.ProcessState.ExitCode()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return status
}

// daemon is the svc.Service: svc.Run calls Init and Start, then Stop on SIGINT/SIGTERM.
type daemon struct {
	opts options

	api       coreservice.Service
	metrics   coreservice.Service
	profiling *http.Server
	stop      context.CancelFunc
}

func (d *daemon) Init(svc.Environment) error {
	parser.Init(parser.Args{
		CfgFile:     d.opts.cfgFile,
		Services:    d.opts.services,
		Nodes:       d.opts.nodes,
		Debug:       d.opts.debug,
		Trace:       d.opts.trace,
		ApiAddr:     d.opts.apiAddr,
		MetricsAddr: d.opts.metricsAddr,
	})
	return nil
}

func (d *daemon) Start() error {
	cfg, err := parser.Parse()
	if err != nil {
		return err
	}
	if d.opts.format != "" {
		if err := cfg.Write(os.Stdout, d.opts.format); err != nil {
			return err
		}
		os.Exit(0)
	}
	if err := d.apply(cfg); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	go d.reloadOnHUP(ctx)
	return nil
}

// apply installs cfg as the global config, lets x register everything it describes and
// (re)starts the services.
func (d *daemon) apply(cfg *config.Config) error {
	config.Set(cfg)
	if err := loader.Load(cfg); err != nil {
		return err
	}

	for _, s := range registry.ServiceRegistry().GetAll() {
		go s.Serve()
	}

	if d.api != nil {
		d.api.Close()
		d.api = nil
	}
	if cfg.API != nil {
		s, err := newAPIService(cfg.API)
		if err != nil {
			return err
		}
		d.api = s
		go serveAux("@api", s)
	}

	if d.metrics != nil {
		d.metrics.Close()
		d.metrics = nil
	}
	if cfg.Metrics != nil && cfg.Metrics.Addr != "" {
		s, err := newMetricsService(cfg.Metrics)
		if err != nil {
			return err
		}
		d.metrics = s
		xmetrics.Enable(true)
		go serveAux("@metrics", s)
	}

	if d.profiling != nil {
		d.profiling.Close()
		d.profiling = nil
	}
	if cfg.Profiling != nil {
		addr := cfg.Profiling.Addr
		if addr == "" {
			addr = ":6060"
		}
		srv := &http.Server{Addr: addr}
		d.profiling = srv
		go func() {
			defer srv.Close()
			l := auxLogger("@profiling")
			l.Info("listening on ", addr)
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				l.Error(err)
			}
		}()
	}
	return nil
}

func auxLogger(name string) corelogger.Logger {
	return corelogger.Default().WithFields(map[string]any{"kind": "service", "service": name})
}

func serveAux(name string, s coreservice.Service) {
	defer s.Close()
	l := auxLogger(name)
	l.Info("listening on ", s.Addr())
	if err := s.Serve(); !errors.Is(err, http.ErrServerClosed) {
		l.Error(err)
	}
}

func (d *daemon) reloadOnHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			cfg, err := parser.Parse()
			if err == nil {
				err = d.apply(cfg)
			}
			if err != nil {
				corelogger.Default().Error(err)
			} else {
				corelogger.Default().Info("config reloaded")
			}
		}
	}
}

func (d *daemon) Stop() error {
	if d.stop != nil {
		d.stop()
	}
	for name, s := range registry.ServiceRegistry().GetAll() {
		s.Close()
		corelogger.Default().Debugf("service %s shutdown", name)
	}
	if d.api != nil {
		d.api.Close()
		corelogger.Default().Debug("service @api shutdown")
	}
	if d.metrics != nil {
		d.metrics.Close()
		corelogger.Default().Debug("service @metrics shutdown")
	}
	if d.profiling != nil {
		d.profiling.Close()
		corelogger.Default().Debug("service @profiling shutdown")
	}
	return nil
}

// listenTarget maps "unix:///path" to a unix socket and anything else to TCP.
func listenTarget(addr string) (network, address string) {
	if rest, ok := strings.CutPrefix(addr, "unix://"); ok {
		return "unix", rest
	}
	return "tcp", addr
}

func newAPIService(c *config.APIConfig) (coreservice.Service, error) {
	var authers []coreauth.Authenticator
	if a := authparsing.ParseAutherFromAuth(c.Auth); a != nil {
		authers = append(authers, a)
	}
	if c.Auther != "" {
		authers = append(authers, registry.AutherRegistry().Get(c.Auther))
	}
	var auther coreauth.Authenticator
	if len(authers) > 0 {
		auther = xauth.AuthenticatorGroup(authers...)
	}
	network, addr := listenTarget(c.Addr)
	return apisvc.NewService(network, addr,
		apisvc.PathPrefixOption(c.PathPrefix),
		apisvc.AccessLogOption(c.AccessLog),
		apisvc.AutherOption(auther),
	)
}

func newMetricsService(c *config.MetricsConfig) (coreservice.Service, error) {
	auther := authparsing.ParseAutherFromAuth(c.Auth)
	if c.Auther != "" {
		auther = registry.AutherRegistry().Get(c.Auther)
	}
	network, addr := listenTarget(c.Addr)
	return metricssvc.NewService(network, addr,
		metricssvc.PathOption(c.Path),
		metricssvc.AutherOption(auther),
	)
}
