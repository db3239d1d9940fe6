package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is the machine's CPU time next to the benchmark's own (this
// process and every command it ran), so that the report can tell other
// work from the load the timed tools make themselves. The load average
// cannot: two-threaded commands running back to back hold it near 2 on
// an otherwise idle 2-core machine.
type cpuSample struct {
	at    time.Time
	busy  time.Duration // every CPU's non-idle time, steal excluded (/proc/stat)
	steal time.Duration // time the hypervisor ran something else on our CPUs
	own   time.Duration // user+sys of this process and its waited-for children
	ok    bool          // /proc/stat was readable
}

// userHZ is the unit of /proc/stat: USER_HZ, 100 on every Linux
// architecture Go runs on.
const userHZ = 100

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	var self, kids syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) == nil && syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids) == nil {
		s.own = tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
	}
	line, _, _ := strings.Cut(readTrim("/proc/stat"), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal guest guest_nice
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	var v [8]int64
	for i := range v {
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return s
		}
		v[i] = n
	}
	jiffy := time.Second / userHZ
	s.busy = time.Duration(v[0]+v[1]+v[2]+v[5]+v[6]) * jiffy // guest time is inside user
	s.steal = time.Duration(v[7]) * jiffy
	s.ok = true
	return s
}

func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

// otherWork is what ran on the machine between start and end besides the
// benchmark: CPU time, steal, and their average in cores.
type otherWork struct {
	cpu, steal time.Duration
	wall       time.Duration
}

func (start cpuSample) until(end cpuSample) (otherWork, bool) {
	if !start.ok || !end.ok {
		return otherWork{}, false
	}
	o := otherWork{
		cpu:   max(end.busy-start.busy-(end.own-start.own), 0),
		steal: end.steal - start.steal,
		wall:  end.at.Sub(start.at),
	}
	return o, true
}

func (o otherWork) cores() float64 {
	if o.wall <= 0 {
		return 0
	}
	return float64(o.cpu+o.steal) / float64(o.wall)
}

// busy reports other work worth a tenth of a core on average: enough to
// delay a two-threaded timed command now and then. (Kernel threads that
// write back the tools' own data count here too; on a quiet machine they
// stay far below it.)
func (o otherWork) busy() bool { return o.cores() > 0.1 }

func (o otherWork) String() string {
	return fmt.Sprintf("%s CPU and %s steal in %s (%.3f cores on average)",
		o.cpu.Round(10*time.Millisecond), o.steal.Round(10*time.Millisecond), o.wall.Round(time.Second), o.cores())
}
