// A registry with the OCI 1.1 referrers API (GET /v2/<name>/referrers/<digest>) for promoflow's tests: the
// registry of go-containerregistry (pkg/registry) with referrers support on, blobs on disk, manifests in memory,
// listening on the address given. zot and olareg, the usual choices, are not available from the Go module proxy
// here; this one builds from it (scripts/setup.sh --interop). For tests only: no auth, no TLS, state lost on exit.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("address", "127.0.0.1:0", "host:port to listen on")
	blobs := flag.String("blobs", "", "directory for blobs (default: in memory)")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	opts := []registry.Option{registry.WithReferrersSupport(true), registry.Logger(log.New(os.Stderr, "", log.LstdFlags))}
	if *blobs != "" {
		if err := os.MkdirAll(*blobs, 0o755); err != nil {
			log.Fatal(err)
		}
		opts = append(opts, registry.WithBlobHandler(registry.NewDiskBlobHandler(*blobs)))
	}
	log.Printf("referrers-registry: serving on %s", l.Addr())
	s := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: registry.New(opts...)}
	log.Fatal(s.Serve(l))
}
