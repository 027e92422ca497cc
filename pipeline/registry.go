package pipeline

import (
	"fmt"
	"sort"
	"sync"
)

// Spec describes a stage kind: how to configure it and how to build it.
type Spec struct {
	Summary string // one line, shown by `sieve stages`
	Example string // a YAML flow mapping of parameters, e.g. "{min_chars: 50}"
	Mode    Mode
	// Config returns a pointer to a new config struct holding the defaults. Fields are
	// decoded from YAML by their `yaml` tag; a `doc` tag documents them for `sieve stages`.
	Config func() any
	// New builds the stage from a decoded, validated config. It opens every file the stage
	// needs so that a bad path fails before any work.
	New func(cfg any, env *Env) (Stage, error)
	// ReportStatic lists the top-level keys of the stage's Report (see Reporter) that
	// describe its setup rather than count its work (a backend name, list sizes, an index
	// built from the same files): the same in every task of a task-mode run, so the merged
	// stats keep them from one task. Every other number, at any depth of maps, is a count
	// and is summed over the tasks.
	ReportStatic []string
	// ReportPerTask marks a stage whose Report describes one task's own work that cannot be
	// added up (a dedup index): task-mode stats leave its figures out.
	ReportPerTask bool
}

// Registry maps stage kinds to their specs. The zero value is ready to use.
type Registry struct {
	mu    sync.RWMutex
	specs map[string]Spec
}

// Register adds a stage kind. It fails if the kind is already registered.
func (r *Registry) Register(kind string, s Spec) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.specs == nil {
		r.specs = make(map[string]Spec)
	}
	if _, dup := r.specs[kind]; dup {
		return fmt.Errorf("stage kind %q registered twice", kind)
	}
	if s.Config == nil || s.New == nil {
		return fmt.Errorf("stage kind %q: Spec needs Config and New", kind)
	}
	r.specs[kind] = s
	return nil
}

// Lookup returns the spec of a stage kind.
func (r *Registry) Lookup(kind string) (Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.specs[kind]
	return s, ok
}

// Kinds returns every registered kind, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.specs))
	for k := range r.specs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var defaultRegistry Registry

// DefaultRegistry is the registry that stage packages register into from init.
func DefaultRegistry() *Registry { return &defaultRegistry }

// MustRegister registers a stage kind in the default registry and panics on a programming
// error (duplicate kind, missing constructor). Call it only from init.
func MustRegister(kind string, s Spec) {
	if err := defaultRegistry.Register(kind, s); err != nil {
		panic(err)
	}
}
