package harness

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mosc-dev/mosc/e2e/kubelet"
	"github.com/mosc-dev/mosc/e2e/registry"
	"github.com/mosc-dev/mosc/e2e/sim"
	"github.com/mosc-dev/mosc/internal/cluster"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options shape the seeded cluster.
type Options struct {
	// MasterNodes and WorkerNodes are the sizes of the seeded pools (default 1
	// master, 3 workers; up to 1000 each). Use -1 for an empty pool.
	MasterNodes, WorkerNodes int
	// OpenShiftVersion is ClusterVersion status.desired.version (default "4.20.15").
	OpenShiftVersion string
	// MaxUnavailable is the pools' spec.maxUnavailable ("1" by default; "10%" works).
	MaxUnavailable string
	// RegistryPlatform seeds the image registry as the operator leaves it on
	// that platform: PlatformBareMetal (default: Removed) or PlatformAWS
	// (Managed on S3). Tests switch with SeedRegistry.
	RegistryPlatform string
	// Logf receives harness progress; nil discards.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.MasterNodes == 0 {
		o.MasterNodes = 1
	}
	if o.WorkerNodes == 0 {
		o.WorkerNodes = 3
	}
	if o.MasterNodes < 0 {
		o.MasterNodes = 0
	}
	if o.WorkerNodes < 0 {
		o.WorkerNodes = 0
	}
	if o.OpenShiftVersion == "" {
		o.OpenShiftVersion = DefaultOpenShiftVersion
	}
	if o.MaxUnavailable == "" {
		o.MaxUnavailable = "1"
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// DefaultOpenShiftVersion is what a fresh harness cluster reports.
const DefaultOpenShiftVersion = "4.20.15"

// Registry credentials of the in-process test registry.
const (
	RegistryUser     = "mosc-e2e"
	registryPassword = "e2e-registry-secret"
)

// Cluster is one running etcd + kube-apiserver with the OpenShift CRDs, a fake
// kubelet and a test registry.
type Cluster struct {
	Dir        string           // temp dir with certs, kubeconfigs, logs
	Kubeconfig string           // admin kubeconfig path (system:masters)
	RESTConfig *rest.Config     // admin
	Clients    *cluster.Clients // admin clients
	Registry   *registry.Server // in-process OCI registry with basic auth
	Kubelet    *kubelet.Server  // fake kubelet behind every seeded Node
	Server     string           // https://127.0.0.1:PORT

	opts    Options
	bins    Binaries
	pki     *pki
	apiArgs []string
	apiPort int

	mu          sync.Mutex
	etcd        *proc
	apiserver   *proc
	tokens      map[string]tokenUser // user name → token line
	stopOnce    sync.Once
	pullAuths   map[string]string
	etcdDataDir string             // on /dev/shm when available, removed by Stop
	saKey       string             // signs service-account tokens
	stopTokens  context.CancelFunc // ends the token controller (tokens.go)
}

type tokenUser struct {
	token  string
	groups []string
}

// Users with static tokens, created up front because the token file cannot
// change while the server runs. UserKubeconfig hands them out; other names get
// a client certificate instead.
var StaticUsers = []string{"alice", "bob", "carol", "dave", "erin"}

// Binaries are the external programs the harness runs.
type Binaries struct {
	KubeAPIServer string
	Etcd          string
}

// FindBinaries locates kube-apiserver ($MOSC_KUBE_APISERVER or the cache of
// hack/kube-apiserver.sh) and etcd ($MOSC_ETCD or PATH). With build set it runs
// hack/kube-apiserver.sh when the binary is not cached yet (5–10 min cold).
func FindBinaries(build bool) (Binaries, error) {
	var b Binaries
	var errs []error
	if p := os.Getenv("MOSC_ETCD"); p != "" {
		b.Etcd = p
	} else if p, err := exec.LookPath("etcd"); err == nil {
		b.Etcd = p
	} else if p := filepath.Join(cacheDir(), "mosc", "etcd-"+EtcdFallbackVersion, "bin", "etcd"); fileExists(p) {
		b.Etcd = p // built by hack/etcd.sh where apt is unavailable
	} else {
		errs = append(errs, errors.New("etcd not found on PATH (apt-get install etcd-server, or hack/etcd.sh, or set MOSC_ETCD); run `make deps`"))
	}
	if p := os.Getenv("MOSC_KUBE_APISERVER"); p != "" {
		b.KubeAPIServer = p
	} else {
		p := filepath.Join(cacheDir(), "mosc", "k8s-"+KubeVersion, "bin", "kube-apiserver")
		if _, err := os.Stat(p); err == nil {
			b.KubeAPIServer = p
		} else if build {
			out, err := buildKubeAPIServer()
			if err != nil {
				errs = append(errs, err)
			} else {
				b.KubeAPIServer = out
			}
		} else {
			errs = append(errs, fmt.Errorf("kube-apiserver not built: run hack/kube-apiserver.sh (expected %s)", p))
		}
	}
	if b.KubeAPIServer != "" {
		if _, err := os.Stat(b.KubeAPIServer); err != nil {
			errs = append(errs, fmt.Errorf("kube-apiserver: %w", err))
		}
	}
	return b, errors.Join(errs...)
}

// EtcdFallbackVersion is what hack/etcd.sh builds when Debian's etcd is unavailable.
const EtcdFallbackVersion = "v3.6.16"

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// KubeVersion is the kube-apiserver the harness builds (k8s.io/* v0.34.1).
const KubeVersion = "v1.34.1"

func cacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return d
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache")
	}
	return os.TempDir()
}

func buildKubeAPIServer() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(root, "hack", "kube-apiserver.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/kube-apiserver.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// moduleRoot finds the directory holding mosc's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/mosc-dev/mosc\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the mosc module root (go.mod) above the working directory")
		}
		dir = parent
	}
}

// Start runs etcd and kube-apiserver on free loopback ports, installs the
// CRDs, starts the fake kubelet and the registry, and seeds the cluster. On
// any error everything started so far is stopped.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	opts = opts.withDefaults()
	bins, err := FindBinaries(false)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mosc-e2e-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{Dir: dir, opts: opts, bins: bins, tokens: map[string]tokenUser{}}
	defer func() {
		if err != nil {
			c.Stop()
			c = nil
		}
	}()
	t0 := time.Now()
	if err := c.startEtcd(ctx); err != nil {
		return c, err
	}
	if err := c.prepareAPIServer(); err != nil {
		return c, err
	}
	if err := c.startAPIServer(ctx); err != nil {
		return c, err
	}
	opts.Logf("harness: kube-apiserver ready at %s in %s", c.Server, time.Since(t0).Round(time.Millisecond))
	if err := c.installCRDs(ctx); err != nil {
		return c, err
	}
	opts.Logf("harness: CRDs established after %s", time.Since(t0).Round(time.Millisecond))
	if c.Registry, err = registry.Start(RegistryUser, registryPassword); err != nil {
		return c, err
	}
	if err := c.Seed(ctx, opts); err != nil {
		return c, err
	}
	tctx, cancel := context.WithCancel(context.Background())
	c.stopTokens = cancel
	if err := c.runTokenController(tctx, c.saKey); err != nil {
		return c, err
	}
	opts.Logf("harness: seeded in %s total (dir %s)", time.Since(t0).Round(time.Millisecond), dir)
	return c, nil
}

// Stop stops every process by PID and removes Dir (kept when MOSC_E2E_KEEP is set).
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		if c.stopTokens != nil {
			c.stopTokens()
		}
		if c.Registry != nil {
			c.Registry.Close()
		}
		if c.Kubelet != nil {
			c.Kubelet.Close()
		}
		c.mu.Lock()
		api, etcd := c.apiserver, c.etcd
		c.mu.Unlock()
		if api != nil {
			api.stop()
		}
		if etcd != nil {
			etcd.stop()
		}
		if c.etcdDataDir != "" {
			_ = os.RemoveAll(c.etcdDataDir)
		}
		if os.Getenv("MOSC_E2E_KEEP") == "" {
			_ = os.RemoveAll(c.Dir)
		}
	})
}

// Options returns the options the cluster was started with (after defaults).
func (c *Cluster) Options() Options { return c.opts }

// proc is a child process we started and stop by PID.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  *os.File
}

func (c *Cluster) spawn(name string, bin string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(filepath.Join(c.Dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, and killed with us if the test binary dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop sends SIGTERM and, after the grace period, SIGKILL. kube-apiserver
// closes its listener at once on SIGTERM but then often hangs for a long
// time stopping internal controllers, so it gets a short grace.
func (p *proc) stop() {
	if p == nil {
		return
	}
	grace := 10 * time.Second
	if p.name == "kube-apiserver" {
		grace = 2 * time.Second
	}
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.log.Close()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail returns the end of a process log, for start-up errors.
func (c *Cluster) tail(name string) string {
	b, _ := os.ReadFile(filepath.Join(c.Dir, name+".log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) startEtcd(ctx context.Context) error {
	cp, err := freePort()
	if err != nil {
		return err
	}
	pp, err := freePort()
	if err != nil {
		return err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", cp)
	peer := fmt.Sprintf("http://127.0.0.1:%d", pp)
	// etcd fsyncs every write; on tmpfs that is free, and a 1000-node seed
	// or rollout is write-bound. The data is throw-away anyway.
	dataDir := filepath.Join(c.Dir, "etcd")
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "mosc-e2e-etcd-"); err == nil {
			dataDir = d
			c.etcdDataDir = d
		}
	}
	p, err := c.spawn("etcd", c.bins.Etcd,
		"--name=e2e", "--data-dir="+dataDir,
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=e2e="+peer, "--quota-backend-bytes=4294967296",
		"--log-level=warn")
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.etcd = p
	c.mu.Unlock()
	c.apiArgs = append(c.apiArgs, "--etcd-servers="+client)
	return waitHTTP(ctx, 30*time.Second, p, http.DefaultClient, client+"/health", "", func() string { return c.tail("etcd") })
}

// prepareAPIServer writes certificates, the token file and the flags.
func (c *Cluster) prepareAPIServer() error {
	var err error
	if c.pki, err = newPKI(); err != nil {
		return err
	}
	pkiDir := filepath.Join(c.Dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return err
	}
	caFile := filepath.Join(pkiDir, "ca.crt")
	if err := os.WriteFile(caFile, c.pki.caPEM, 0o644); err != nil {
		return err
	}
	sc, sk, err := c.pki.issue("kube-apiserver", nil, true)
	if err != nil {
		return err
	}
	servingCert, servingKey, err := writePair(pkiDir, "apiserver", sc, sk)
	if err != nil {
		return err
	}
	kc, kk, err := c.pki.issue("kube-apiserver-kubelet-client", []string{"system:masters"}, false)
	if err != nil {
		return err
	}
	kubeletClientCert, kubeletClientKey, err := writePair(pkiDir, "apiserver-kubelet-client", kc, kk)
	if err != nil {
		return err
	}
	saKey, err := writeSAKey(pkiDir)
	if err != nil {
		return err
	}
	c.saKey = saKey
	// Fake kubelet: serving cert from our CA so the API server verifies it.
	kcert, kkey, err := c.pki.issue("fake-kubelet", nil, true)
	if err != nil {
		return err
	}
	pair, err := tlsPair(kcert, kkey)
	if err != nil {
		return err
	}
	if c.Kubelet, err = kubelet.Start(pair); err != nil {
		return err
	}

	// Static tokens: the admin and the hand-out users.
	var lines []string
	admin := randToken()
	c.tokens["admin"] = tokenUser{token: admin, groups: []string{"system:masters"}}
	lines = append(lines, fmt.Sprintf("%s,admin,admin-uid,\"system:masters\"", admin))
	for _, u := range StaticUsers {
		t := randToken()
		c.tokens[u] = tokenUser{token: t, groups: []string{"mosc-e2e:users"}}
		lines = append(lines, fmt.Sprintf("%s,%s,%s-uid,\"mosc-e2e:users\"", t, u, u))
	}
	tokenFile := filepath.Join(pkiDir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	if c.apiPort, err = freePort(); err != nil {
		return err
	}
	c.Server = fmt.Sprintf("https://127.0.0.1:%d", c.apiPort)
	c.apiArgs = append(c.apiArgs,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", c.apiPort),
		"--cert-dir="+pkiDir,
		"--tls-cert-file="+servingCert, "--tls-private-key-file="+servingKey,
		"--client-ca-file="+caFile,
		"--token-auth-file="+tokenFile,
		"--authorization-mode=RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--api-audiences=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-certificate-authority="+caFile,
		"--kubelet-client-certificate="+kubeletClientCert,
		"--kubelet-client-key="+kubeletClientKey,
		// A 1000-node rollout writes in bursts; the defaults (400/200) throttle it.
		"--max-requests-inflight=2000", "--max-mutating-requests-inflight=1000",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=1",
	)
	adminCfg := c.restConfigFor(clientcmdapi.AuthInfo{Token: admin})
	c.RESTConfig = adminCfg
	if c.Clients, err = cluster.NewClients(adminCfg); err != nil {
		return err
	}
	c.Kubeconfig = filepath.Join(c.Dir, "admin.kubeconfig")
	return c.writeKubeconfig(c.Kubeconfig, "admin", clientcmdapi.AuthInfo{Token: admin})
}

func randToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// restConfigFor builds a client config with generous rate limits: the harness
// and simulator must not be the bottleneck of a 1000-node rollout.
func (c *Cluster) restConfigFor(ai clientcmdapi.AuthInfo) *rest.Config {
	cfg := &rest.Config{
		Host:            c.Server,
		BearerToken:     ai.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.pki.caPEM, CertData: ai.ClientCertificateData, KeyData: ai.ClientKeyData},
		QPS:             1000,
		Burst:           2000,
		UserAgent:       "mosc-e2e-harness",
	}
	return cfg
}

func (c *Cluster) writeKubeconfig(path, user string, ai clientcmdapi.AuthInfo) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["e2e"] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: c.pki.caPEM}
	a := ai
	kc.AuthInfos[user] = &a
	kc.Contexts["e2e-"+user] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: user}
	kc.CurrentContext = "e2e-" + user
	return clientcmd.WriteToFile(*kc, path) // clientcmd writes 0600
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	p, err := c.spawn("kube-apiserver", c.bins.KubeAPIServer, c.apiArgs...)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.apiserver = p
	c.mu.Unlock()
	hc, err := c.httpClient()
	if err != nil {
		return err
	}
	return waitHTTP(ctx, 90*time.Second, p, hc, c.Server+"/readyz", c.tokens["admin"].token, func() string { return c.tail("kube-apiserver") })
}

func (c *Cluster) httpClient() (*http.Client, error) {
	pool := x509.NewCertPool()
	pool.AddCert(c.pki.caCert)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

// waitHTTP polls a health endpoint: nothing to watch before the server is up.
func waitHTTP(ctx context.Context, limit time.Duration, p *proc, hc *http.Client, url, token string, tail func() string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last string
	for {
		if p.exited() {
			return fmt.Errorf("%s exited during start-up (%v); log tail:\n%s", p.name, p.err, tail())
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy at %s after %s (last: %s); log tail:\n%s", p.name, url, limit, last, tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RestartAPIServer stops kube-apiserver and starts it again on the same port
// and etcd: watches break and clients must resume, as after a control-plane
// upgrade.
func (c *Cluster) RestartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	p := c.apiserver
	c.mu.Unlock()
	t0 := time.Now()
	p.stop()
	t1 := time.Now()
	err := c.startAPIServer(ctx)
	c.opts.Logf("harness: kube-apiserver restarted: stop %s, start %s", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	return err
}

// StopAPIServer stops kube-apiserver only (see StartAPIServer), for tests
// that check behaviour while the server is down.
func (c *Cluster) StopAPIServer() {
	c.mu.Lock()
	p := c.apiserver
	c.mu.Unlock()
	p.stop()
}

// StartAPIServer starts a stopped kube-apiserver again.
func (c *Cluster) StartAPIServer(ctx context.Context) error { return c.startAPIServer(ctx) }

// UserKubeconfig writes a kubeconfig for a restricted user that has no RBAC
// rights until the test grants them. Names in StaticUsers (group
// "mosc-e2e:users", unless groups is non-nil) authenticate by bearer token;
// any other name, or explicit groups, by a client certificate (CN=name,
// O=groups) from the cluster CA.
func (c *Cluster) UserKubeconfig(name string, groups []string) (string, error) {
	if name == "" || name == "admin" || strings.HasPrefix(name, "system:") {
		return "", fmt.Errorf("user name %q is reserved", name)
	}
	var ai clientcmdapi.AuthInfo
	if tu, ok := c.tokens[name]; ok && groups == nil {
		ai.Token = tu.token
	} else {
		cert, key, err := c.pki.issue(name, groups, false)
		if err != nil {
			return "", err
		}
		ai.ClientCertificateData, ai.ClientKeyData = cert, key
	}
	gs := append([]string(nil), groups...)
	sort.Strings(gs)
	p := filepath.Join(c.Dir, "user-"+name+"-"+strings.ReplaceAll(strings.Join(gs, "+"), ":", "_")+".kubeconfig")
	return p, c.writeKubeconfig(p, name, ai)
}

// UserRESTConfig is UserKubeconfig as a rest.Config.
func (c *Cluster) UserRESTConfig(name string, groups []string) (*rest.Config, error) {
	p, err := c.UserKubeconfig(name, groups)
	if err != nil {
		return nil, err
	}
	return clientcmd.BuildConfigFromFlags("", p)
}

// NewSimulator returns an MCO simulator wired to this cluster: build logs go
// to the fake kubelet, pushes to the test registry (which also plays the
// internal registry). Run it with s.Run(ctx).
func (c *Cluster) NewSimulator(f sim.Faults, logf func(string, ...any)) *sim.Simulator {
	return sim.New(c.Clients, sim.Options{
		Faults:       f,
		Logs:         c.Kubelet,
		RegistryHost: c.Registry.Host(),
		RegistryAuth: c.Registry.Authenticator(),
		Logf:         logf,
	})
}
