// A registry with the OCI 1.1 referrers API (GET /v2/<name>/referrers/<digest>) for promoflow's tests: the
// registry of go-containerregistry (pkg/registry) with referrers support on, blobs on disk, manifests in memory,
// listening on the address given. zot and olareg, the usual choices, are not available from the Go module proxy
// here; this one builds from it (scripts/setup.sh --interop). For tests only: no auth, no TLS, state lost on exit.
//
// One correction on top: pkg/registry (v0.22.1) reports a referrer's artifactType from its config media type only,
// while the distribution spec says the manifest's own artifactType field comes first (sigstore bundles set it and
// use the empty config). referrers() rewrites each descriptor's artifactType from the manifest and applies the
// artifactType filter, as a conformant registry does (announced with OCI-Filters-Applied).
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func referrers(inner http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(r.URL.Path, "/")
		if r.Method != http.MethodGet || len(parts) < 5 || parts[len(parts)-2] != "referrers" {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r.Clone(r.Context()))
		var index map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &index) != nil {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		repo := strings.Join(parts[2:len(parts)-2], "/")
		want := r.URL.Query().Get("artifactType")
		kept := []any{}
		list, _ := index["manifests"].([]any)
		for _, item := range list {
			d, _ := item.(map[string]any)
			digest, _ := d["digest"].(string)
			get := httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/manifests/"+digest, nil)
			get.Header.Set("Accept", "*/*")
			m := httptest.NewRecorder()
			inner.ServeHTTP(m, get)
			var manifest struct {
				ArtifactType string `json:"artifactType"`
			}
			if json.Unmarshal(m.Body.Bytes(), &manifest) == nil && manifest.ArtifactType != "" {
				d["artifactType"] = manifest.ArtifactType
			}
			if want == "" || d["artifactType"] == want {
				kept = append(kept, d)
			}
		}
		index["manifests"] = kept
		body, _ := json.Marshal(index)
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		if want != "" {
			w.Header().Set("OCI-Filters-Applied", "artifactType")
		}
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
}

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
	s := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: referrers(registry.New(opts...))}
	log.Fatal(s.Serve(l))
}
