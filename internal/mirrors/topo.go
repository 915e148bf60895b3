package mirrors

import "sort"

// topoGraph orders mirrors as runtime-utils pkg/registries/topo.go does
// (github.com/openshift/runtime-utils, master, pkg/registries/topo.go):
// Kahn's algorithm over nodes sorted by name, each batch of newly freed
// successors sorted by name, and a cycle broken by the first unused node
// in name order. The order must match, so the first mirror gate reads is
// the one the node's registries.conf tries first.
type topoGraph struct {
	nodes map[string]*topoNode
}

type topoNode struct {
	name string
	used bool
	ins  map[*topoNode]bool
	outs map[*topoNode]bool
}

func newTopoGraph() *topoGraph { return &topoGraph{nodes: map[string]*topoNode{}} }

func (g *topoGraph) node(n string) *topoNode {
	if x, ok := g.nodes[n]; ok {
		return x
	}
	x := &topoNode{name: n, ins: map[*topoNode]bool{}, outs: map[*topoNode]bool{}}
	g.nodes[n] = x
	return x
}

func (g *topoGraph) addEdge(from, to string) {
	f, t := g.node(from), g.node(to)
	f.outs[t] = true
	t.ins[f] = true
}

func (g *topoGraph) sorted() []string {
	all := make([]*topoNode, 0, len(g.nodes))
	for _, n := range g.nodes {
		all = append(all, n)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	var queue []*topoNode
	for _, n := range all {
		if len(n.ins) == 0 {
			queue = append(queue, n)
		}
	}
	var out []string
	next := 0
	for len(queue) > 0 || next < len(all) {
		var n *topoNode
		if len(queue) > 0 {
			n, queue = queue[0], queue[1:]
		} else {
			n = all[next]
			next++
			if n.used {
				continue
			}
		}
		if n.used {
			continue
		}
		n.used = true
		out = append(out, n.name)
		var batch []*topoNode
		for o := range n.outs {
			delete(o.ins, n)
			if len(o.ins) == 0 && !o.used {
				batch = append(batch, o)
			}
		}
		sort.Slice(batch, func(i, j int) bool { return batch[i].name < batch[j].name })
		queue = append(queue, batch...)
	}
	return out
}
