// gocrawl - the Go peer of bench_crawl: a breadth-first crawl of one site with
// net/http, a fixed pool of worker goroutines and regexp link extraction.
//
//	gocrawl -url http://127.0.0.1:PORT/p/0.html -c 64
//
// Follows links on the seed's host only, each URL once (fragment dropped), and
// prints "pages N" (responses with status 200) when the queue is empty.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sync"
	"time"
)

var hrefRe = regexp.MustCompile(`(?i)<a\s[^>]*?href\s*=\s*["']([^"'#]*)`)

type crawler struct {
	client  *http.Client
	host    string
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*url.URL
	seen    map[string]bool
	pending int // queued + being fetched
	pages   int
	errors  int
}

func (c *crawler) push(u *url.URL) {
	u.Fragment = ""
	if u.Host != c.host || (u.Scheme != "http" && u.Scheme != "https") {
		return
	}
	k := u.String()
	if c.seen[k] {
		return
	}
	c.seen[k] = true
	c.queue = append(c.queue, u)
	c.pending++
	c.cond.Signal()
}

// next blocks until a URL is queued; nil once nothing is queued or in flight.
func (c *crawler) next() *url.URL {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.queue) == 0 && c.pending > 0 {
		c.cond.Wait()
	}
	if len(c.queue) == 0 {
		return nil
	}
	u := c.queue[0]
	c.queue = c.queue[1:]
	return u
}

func (c *crawler) fetch(u *url.URL) {
	var links []*url.URL
	ok := false
	resp, err := c.client.Get(u.String())
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil && resp.StatusCode == 200 {
			ok = true
			for _, m := range hrefRe.FindAllSubmatch(body, -1) {
				if ref, perr := url.Parse(string(m[1])); perr == nil {
					links = append(links, u.ResolveReference(ref))
				}
			}
		}
	}
	c.mu.Lock()
	if ok {
		c.pages++
	} else {
		c.errors++
	}
	for _, l := range links {
		c.push(l)
	}
	c.pending--
	c.cond.Broadcast()
	c.mu.Unlock()
}

func main() {
	seed := flag.String("url", "", "seed URL")
	workers := flag.Int("c", 64, "concurrent fetches")
	flag.Parse()
	u, err := url.Parse(*seed)
	if err != nil || u.Host == "" {
		fmt.Fprintln(os.Stderr, "gocrawl: -url wants an absolute URL")
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConns: *workers, MaxIdleConnsPerHost: *workers,
		MaxConnsPerHost: *workers, DisableCompression: true}
	c := &crawler{client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		host: u.Host, seen: map[string]bool{}}
	c.cond = sync.NewCond(&c.mu)
	c.mu.Lock()
	c.push(u)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := c.next(); u != nil; u = c.next() {
				c.fetch(u)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("errors %d\npages %d\n", c.errors, c.pages)
}
