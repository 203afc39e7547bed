// million.go - bench/bench_tasks.c's "million" in Go, for comparison.
//
// N goroutines each sleeping uniform(0, 1) s (seeded), all started first,
// then waited for with a WaitGroup: wall time, peak RSS (ru_maxrss) and
// RSS per goroutine. Prints the same key=value lines as bench_tasks.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

func peakRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Maxrss
}

func main() {
	n := flag.Int("tasks", 1000000, "goroutines")
	seed := flag.Int64("seed", 1, "random seed")
	flag.Parse()
	if *n < 1 {
		fmt.Fprintln(os.Stderr, "million: --tasks must be at least 1")
		os.Exit(2)
	}
	fmt.Printf("million_go: go=%s gomaxprocs=%d seed=%d\n", runtime.Version(), runtime.GOMAXPROCS(0), *seed)
	r := rand.New(rand.NewSource(*seed))
	base := peakRSSKiB()
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(*n)
	for i := 0; i < *n; i++ {
		d := time.Duration(r.Float64() * float64(time.Second))
		go func() {
			time.Sleep(d)
			wg.Done()
		}()
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	peak := peakRSSKiB()
	fmt.Printf("million.tasks=%d\n", *n)
	fmt.Printf("million.wall_s=%.4f\n", secs)
	fmt.Printf("million.baseline_rss_kib=%d\n", base)
	fmt.Printf("million.peak_rss_kib=%d\n", peak)
	fmt.Printf("million.bytes_per_task=%.1f\n", float64(peak-base)*1024/float64(*n))
}
