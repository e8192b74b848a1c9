// Command sched exercises the scheduler's building blocks: many goroutines, channels, select,
// timers, tickers and context deadlines. It prints what time.Sleep(d) measured and checks only
// that it slept at least d (sleeping too long is reported, and judged by a person).
package main

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/morgana-os/morgana/tests/guests/internal/check"
)

func main() {
	manyGoroutines(10000)
	pipeline(64, 1000)
	selects()
	sleeps()
	timers()
	check.Done()
}

// manyGoroutines starts n goroutines that each send their index; the sum must be exact.
func manyGoroutines(n int) {
	ch := make(chan int)
	var wg sync.WaitGroup
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); ch <- i }()
	}
	go func() { wg.Wait(); close(ch) }()
	sum := 0
	for v := range ch {
		sum += v
	}
	check.That(sum == n*(n+1)/2, "%d goroutines sent %d, want %d (NumGoroutine now %d)", n, sum, n*(n+1)/2, runtime.NumGoroutine())
}

// pipeline passes values through a chain of goroutines, each adding one.
func pipeline(stages, values int) {
	first := make(chan int)
	in := first
	for range stages {
		out := make(chan int, 1)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(in, out)
		in = out
	}
	go func() {
		for i := range values {
			first <- i
		}
		close(first)
	}()
	got, want := 0, 0
	for v := range in {
		got += v
	}
	for i := range values {
		want += i + stages
	}
	check.That(got == want, "pipeline of %d stages carried %d values: sum %d, want %d", stages, values, got, want)
}

func selects() {
	a, b := make(chan int), make(chan int)
	go func() {
		for i := range 100 {
			if i%2 == 0 {
				a <- i
			} else {
				b <- i
			}
		}
		close(a)
		close(b)
	}()
	na, nb := 0, 0
	for a != nil || b != nil {
		select {
		case _, ok := <-a:
			if !ok {
				a = nil
				continue
			}
			na++
		case _, ok := <-b:
			if !ok {
				b = nil
				continue
			}
			nb++
		}
	}
	check.That(na == 50 && nb == 50, "select received %d+%d values, want 50+50", na, nb)

	never := make(chan int)
	select {
	case <-never:
		check.Failf("received from a channel nobody sends on")
	default:
		check.Okf("select default taken when nothing is ready")
	}

	start := time.Now()
	select {
	case <-never:
		check.Failf("received from a channel nobody sends on")
	case <-time.After(20 * time.Millisecond):
		d := time.Since(start)
		check.That(d >= 20*time.Millisecond, "select with time.After(20ms) timed out after %v", d)
	}
}

func sleeps() {
	for _, d := range []time.Duration{time.Microsecond, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond} {
		var got []string
		var short time.Duration
		worst := time.Duration(0)
		for range 5 {
			start := time.Now()
			time.Sleep(d)
			m := time.Since(start)
			got = append(got, m.Round(time.Microsecond).String())
			if m < d {
				short = m
			}
			worst = max(worst, m)
		}
		check.That(short == 0, "time.Sleep(%v) slept %v", d, got)
		if worst > d+500*time.Millisecond {
			check.Infof("time.Sleep(%v) overslept by %v", d, worst-d)
		}
	}
}

func timers() {
	// A stopped timer must not fire; a reset one fires once, after its new duration.
	t := time.NewTimer(time.Hour)
	check.That(t.Stop(), "a pending timer stops")
	start := time.Now()
	t.Reset(10 * time.Millisecond)
	<-t.C
	d := time.Since(start)
	check.That(d >= 10*time.Millisecond, "a timer reset to 10ms fired after %v", d)

	fired := make(chan time.Duration, 1)
	start = time.Now()
	time.AfterFunc(15*time.Millisecond, func() { fired <- time.Since(start) })
	d = <-fired
	check.That(d >= 15*time.Millisecond, "time.AfterFunc(15ms) ran after %v", d)

	tk := time.NewTicker(10 * time.Millisecond)
	start = time.Now()
	ticks := 0
	for range tk.C {
		if ticks++; ticks == 10 {
			break
		}
	}
	tk.Stop()
	d = time.Since(start)
	check.That(d >= 100*time.Millisecond, "10 ticks of a 10ms ticker took %v", d)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	<-ctx.Done()
	d = time.Since(start)
	check.That(d >= 29*time.Millisecond && ctx.Err() == context.DeadlineExceeded,
		"context.WithTimeout(30ms) ended after %v with %v", d, ctx.Err())
}
