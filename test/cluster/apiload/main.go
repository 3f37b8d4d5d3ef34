// SPDX-License-Identifier: Apache-2.0

// apiload is the operator benchmark's bare API client (standard library only): it creates many
// objects in parallel, measures the floor (the same writes the operator must make, done by a
// client that does nothing else), and watches until every Service has its ingress.
//
//	apiload -dir build/cluster -server https://127.0.0.1:26443 services -ns bench -n 1000
//	apiload ... floor -ns bench-floor -n 1000 -ds ds.json
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type client struct {
	server string
	http   *http.Client
}

func newClient(dir, server string, conns int) (*client, error) {
	ca, err := os.ReadFile(dir + "/pki/ca.crt")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(dir+"/pki/admin.crt", dir+"/pki/admin.key")
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}},
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		ForceAttemptHTTP2:   true,
	}
	return &client{server: server, http: &http.Client{Transport: tr}}, nil
}

func (c *client) do(method, path, ctype string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, c.server+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// parallel runs f(0..n-1) on w workers; returns the wall time and the number of failures.
func parallel(n, w int, f func(i int) error) (time.Duration, int64) {
	var next, failed int64 = -1, 0
	var wg sync.WaitGroup
	start := time.Now()
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					if atomic.AddInt64(&failed, 1) <= 3 {
						fmt.Fprintln(os.Stderr, "apiload:", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), failed
}

func expect(code int, body []byte, err error, want ...int) error {
	if err != nil {
		return err
	}
	for _, w := range want {
		if code == w {
			return nil
		}
	}
	return fmt.Errorf("HTTP %d: %.200s", code, body)
}

func ensureNamespace(c *client, ns string) error {
	body, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}})
	code, b, err := c.do("POST", "/api/v1/namespaces", "application/json", body)
	return expect(code, b, err, 201, 409)
}

func service(ns string, i int, class string) []byte {
	spec := map[string]any{
		"type":  "LoadBalancer",
		"ports": []any{map[string]any{"name": "p", "port": 20000 + i, "protocol": "TCP"}},
	}
	if class != "" {
		spec["loadBalancerClass"] = class
	}
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": fmt.Sprintf("svc-%04d", i), "namespace": ns},
		"spec":     spec,
	})
	return b
}

// watchIngress counts Services of ns with a non-empty ingress; sends on done when n have one.
// With addresses > 0 it goes on until n Services list at least that many addresses each (every
// node's balancer Ready and published) and then sends on complete.
func watchIngress(c *client, ns string, n, addresses int, ready chan<- struct{}, done, complete chan<- time.Time) {
	req, _ := http.NewRequest("GET", c.server+"/api/v1/namespaces/"+ns+"/services?watch=1&timeoutSeconds=3600", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiload: watch:", err)
		os.Exit(1)
	}
	close(ready)
	have, all := map[string]bool{}, map[string]bool{}
	sentDone := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Type   string
			Object struct {
				Metadata struct{ Name string }
				Status   struct {
					LoadBalancer struct{ Ingress []any }
				}
			}
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		name, listed := ev.Object.Metadata.Name, len(ev.Object.Status.LoadBalancer.Ingress)
		have[name] = ev.Type != "DELETED" && listed > 0
		all[name] = ev.Type != "DELETED" && addresses > 0 && listed >= addresses
		if !sentDone && count(have) >= n {
			done <- time.Now()
			sentDone = true
			if addresses <= 0 {
				return
			}
		}
		if addresses > 0 && count(all) >= n {
			complete <- time.Now()
			return
		}
	}
	fmt.Fprintln(os.Stderr, "apiload: watch ended early")
	os.Exit(1)
}

// watchDaemonSets reports when n managed DaemonSets exist (the operator's creates) and when n
// have every scheduled pod Ready (the DaemonSet controller, scheduler and kwok behind it).
func watchDaemonSets(c *client, ns string, n int, ready chan<- struct{}, created, podsReady chan<- time.Time) {
	req, _ := http.NewRequest("GET", c.server+"/apis/apps/v1/namespaces/"+ns+
		"/daemonsets?watch=1&timeoutSeconds=3600&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dakrobateo", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiload: watch:", err)
		os.Exit(1)
	}
	close(ready)
	exists, full := map[string]bool{}, map[string]bool{}
	sentCreated, sentReady := false, false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Type   string
			Object struct {
				Metadata struct{ Name string }
				Status   struct{ DesiredNumberScheduled, NumberReady int }
			}
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		name, st := ev.Object.Metadata.Name, ev.Object.Status
		exists[name] = ev.Type != "DELETED"
		full[name] = exists[name] && st.DesiredNumberScheduled > 0 && st.NumberReady >= st.DesiredNumberScheduled
		if !sentCreated && count(exists) >= n {
			created <- time.Now()
			sentCreated = true
		}
		if !sentReady && count(full) >= n {
			podsReady <- time.Now()
			sentReady = true
			return
		}
	}
}

// daemonSet copies the operator's DaemonSet for Service i: its own selector (so that no two
// DaemonSets claim the same pods) and the Service's port as hostPort.
func daemonSet(tmpl map[string]any, ns string, i int) []byte {
	var ds map[string]any
	raw, _ := json.Marshal(tmpl)
	_ = json.Unmarshal(raw, &ds)
	name := fmt.Sprintf("ds-%04d", i)
	labels := map[string]any{"akrobateo.dev/floor": name}
	spec := ds["spec"].(map[string]any)
	spec["selector"] = map[string]any{"matchLabels": labels}
	tpl := spec["template"].(map[string]any)
	tpl["metadata"] = map[string]any{"labels": labels}
	ctr := tpl["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	ctr["ports"] = []any{map[string]any{"containerPort": 20000 + i, "hostPort": 20000 + i, "protocol": "TCP"}}
	b, _ := json.Marshal(map[string]any{"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": spec,
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels}})
	return b
}

// watchAndPatch is the perfect operator's status half: when DaemonSet ds-I has all its pods
// Ready, it patches Service svc-I's status once.
func watchAndPatch(c *client, ns string, n int, ready chan<- struct{}, created, podsReady, patched chan<- time.Time) {
	req, _ := http.NewRequest("GET", c.server+"/apis/apps/v1/namespaces/"+ns+"/daemonsets?watch=1&timeoutSeconds=3600", nil)
	resp, err := c.http.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiload: watch:", err)
		os.Exit(1)
	}
	close(ready)
	exists, full := map[string]bool{}, map[string]bool{}
	var done int64
	sem := make(chan struct{}, 16)
	sentCreated, sentReady := false, false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Type   string
			Object struct {
				Metadata struct{ Name string }
				Status   struct{ DesiredNumberScheduled, NumberReady int }
			}
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		name, st := ev.Object.Metadata.Name, ev.Object.Status
		exists[name] = true
		if !sentCreated && count(exists) >= n {
			created <- time.Now()
			sentCreated = true
		}
		if full[name] || st.DesiredNumberScheduled == 0 || st.NumberReady < st.DesiredNumberScheduled {
			continue
		}
		full[name] = true
		if !sentReady && count(full) >= n {
			podsReady <- time.Now()
			sentReady = true
		}
		sem <- struct{}{}
		go func(svc string) {
			defer func() { <-sem }()
			body := []byte(`{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.11"}]}}}`)
			code, b, err := c.do("PATCH", "/api/v1/namespaces/"+ns+"/services/"+svc+"/status", "application/merge-patch+json", body)
			if err := expect(code, b, err, 200); err != nil {
				fmt.Fprintln(os.Stderr, "apiload: patch:", err)
			}
			if atomic.AddInt64(&done, 1) == int64(n) {
				patched <- time.Now()
			}
		}("svc-" + name[len("ds-"):])
	}
}

func count(m map[string]bool) int {
	k := 0
	for _, v := range m {
		if v {
			k++
		}
	}
	return k
}

func main() {
	dir := flag.String("dir", "build/cluster", "cluster state dir (pki/)")
	server := flag.String("server", "https://127.0.0.1:26443", "kube-apiserver URL")
	workers := flag.Int("workers", 16, "parallel requests")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: apiload [flags] services|floor [-ns NS] [-n N] [-ds FILE]")
		os.Exit(2)
	}
	sub := flag.NewFlagSet(flag.Arg(0), flag.ExitOnError)
	ns := sub.String("ns", "bench", "namespace")
	opns := sub.String("operator-ns", "akrobateo-system", "services: namespace of the DaemonSets")
	n := sub.Int("n", 1000, "number of Services")
	dsFile := sub.String("ds", "", "floor: a DaemonSet JSON to copy (as the operator wrote it)")
	timeout := sub.Duration("timeout", 20*time.Minute, "services: give up after")
	addresses := sub.Int("addresses", 0, "services: also wait until every Service lists this many addresses")
	_ = sub.Parse(flag.Args()[1:])
	c, err := newClient(*dir, *server, *workers)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiload:", err)
		os.Exit(1)
	}
	if err := ensureNamespace(c, *ns); err != nil {
		fmt.Fprintln(os.Stderr, "apiload: namespace:", err)
		os.Exit(1)
	}
	switch flag.Arg(0) {
	case "services": // create n LoadBalancer Services at once; wait until each has its ingress
		ready := make(chan struct{})
		done, complete := make(chan time.Time, 1), make(chan time.Time, 1)
		go watchIngress(c, *ns, *n, *addresses, ready, done, complete)
		<-ready
		dsReady := make(chan struct{})
		created, podsReady := make(chan time.Time, 1), make(chan time.Time, 1)
		go watchDaemonSets(c, *opns, *n, dsReady, created, podsReady)
		<-dsReady
		start := time.Now()
		took, failed := parallel(*n, *workers, func(i int) error {
			code, b, err := c.do("POST", "/api/v1/namespaces/"+*ns+"/services", "application/json", service(*ns, i, ""))
			return expect(code, b, err, 201)
		})
		fmt.Printf("created %d Services in %.2fs (%d failed)\n", *n, took.Seconds(), failed)
		deadline := start.Add(*timeout)
		select {
		case t := <-done:
			// DaemonSet status (numberReady) may trail the pods the operator already saw Ready;
			// with -addresses the pods are still coming (a DaemonSet's pods on many nodes), so
			// the wait for them lasts as long as the run may.
			grace := 60 * time.Second
			if *addresses > 0 {
				grace = time.Until(deadline)
			}
			stop := time.Now().Add(grace)
			for _, ch := range []struct {
				what string
				c    chan time.Time
			}{{"daemonsets", created}, {"pods-ready", podsReady}} {
				select {
				case u := <-ch.c:
					fmt.Printf("%s %.2f\n", ch.what, u.Sub(start).Seconds())
				case <-time.After(time.Until(stop)):
					fmt.Printf("%s unknown\n", ch.what)
				}
			}
			fmt.Printf("converged %.2f\n", t.Sub(start).Seconds())
			if *addresses > 0 {
				select {
				case u := <-complete:
					fmt.Printf("complete %.2f\n", u.Sub(start).Seconds())
				case <-time.After(time.Until(deadline)):
					fmt.Println("complete timeout")
					os.Exit(1)
				}
			}
		case <-time.After(*timeout):
			fmt.Println("converged timeout")
			os.Exit(1)
		}
	case "floor": // the operator's 2000 writes, done by a bare client
		raw, err := os.ReadFile(*dsFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "apiload:", err)
			os.Exit(1)
		}
		// Untimed: the Services to patch, of a class the operator ignores.
		if _, failed := parallel(*n, *workers, func(i int) error {
			code, b, err := c.do("POST", "/api/v1/namespaces/"+*ns+"/services", "application/json", service(*ns, i, "example.com/floor"))
			return expect(code, b, err, 201)
		}); failed > 0 {
			os.Exit(1)
		}
		var ds map[string]any
		_ = json.Unmarshal(raw, &ds)
		md := ds["metadata"].(map[string]any)
		spec := ds["spec"]
		// No node matches: the DaemonSet controller creates no pods, so only these writes count.
		pod := spec.(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		pod["nodeSelector"] = map[string]any{"akrobateo.dev/floor": "none"}
		start := time.Now()
		tc, fc := parallel(*n, *workers, func(i int) error {
			obj := map[string]any{"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": spec,
				"metadata": map[string]any{"name": fmt.Sprintf("floor-%04d", i), "namespace": *ns, "labels": md["labels"]}}
			body, _ := json.Marshal(obj)
			code, b, err := c.do("POST", "/apis/apps/v1/namespaces/"+*ns+"/daemonsets", "application/json", body)
			return expect(code, b, err, 201)
		})
		tp, fp := parallel(*n, *workers, func(i int) error {
			body := []byte(`{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"},{"ip":"192.0.2.12"},{"ip":"203.0.113.11"}]}}}`)
			code, b, err := c.do("PATCH", fmt.Sprintf("/api/v1/namespaces/%s/services/svc-%04d/status", *ns, i),
				"application/merge-patch+json", body)
			return expect(code, b, err, 200)
		})
		fmt.Printf("floor creates %.2f patches %.2f total %.2f failed %d\n", tc.Seconds(), tp.Seconds(),
			time.Since(start).Seconds(), fc+fp)
	case "pipeline": // a perfect operator: Service, its DaemonSet, status once the pods are Ready
		raw, err := os.ReadFile(*dsFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "apiload:", err)
			os.Exit(1)
		}
		var ds map[string]any
		_ = json.Unmarshal(raw, &ds)
		dsReady := make(chan struct{})
		created, podsReady := make(chan time.Time, 1), make(chan time.Time, 1)
		patched := make(chan time.Time, 1)
		go watchAndPatch(c, *ns, *n, dsReady, created, podsReady, patched)
		<-dsReady
		start := time.Now()
		took, failed := parallel(*n, *workers, func(i int) error {
			code, b, err := c.do("POST", "/api/v1/namespaces/"+*ns+"/services", "application/json", service(*ns, i, "example.com/floor"))
			if err := expect(code, b, err, 201); err != nil {
				return err
			}
			code, b, err = c.do("POST", "/apis/apps/v1/namespaces/"+*ns+"/daemonsets", "application/json", daemonSet(ds, *ns, i))
			return expect(code, b, err, 201)
		})
		fmt.Printf("created %d Services and DaemonSets in %.2fs (%d failed)\n", *n, took.Seconds(), failed)
		for _, ch := range []struct {
			what string
			c    chan time.Time
		}{{"daemonsets", created}, {"pods-ready", podsReady}, {"converged", patched}} {
			select {
			case u := <-ch.c:
				fmt.Printf("%s %.2f\n", ch.what, u.Sub(start).Seconds())
			case <-time.After(*timeout):
				fmt.Printf("%s timeout\n", ch.what)
				os.Exit(1)
			}
		}
	default:
		fmt.Fprintln(os.Stderr, "apiload: unknown command", flag.Arg(0))
		os.Exit(2)
	}
}
