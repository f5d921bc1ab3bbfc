// The plan as a picture: `shipgate plan --format mermaid|dot|json`. Steps sit in their levels
// (what starts together), a matrix step is a box around its instances, and the critical path is
// drawn thick. Pure renderers over the plan summary the CLI already prints as JSON, so every
// format shows the same graph. Node ids are generated (`s0`, `s1_0`): step ids and matrix values
// only ever appear as escaped labels.

/** The plan as `shipgate plan --json` prints it (what the Jenkins library and exporters read). */
export interface PlanGraph {
  pipeline: string;
  file: string;
  levels: string[][];
  steps: Record<string, { needs: string[]; uses: string; matrix: boolean; invocations: string[]; executor: string }>;
  criticalPath: { path: string[]; totalMs: number | undefined; estimatedFrom: 'last run' | 'step count' };
}

export type PlanFormat = 'text' | 'json' | 'mermaid' | 'dot';
export const planFormats: readonly PlanFormat[] = ['text', 'json', 'mermaid', 'dot'];

interface GraphNode {
  id: string;
  stepId: string;
  /** Instance node ids of a matrix step (the step itself is then a group). */
  instances?: { id: string; label: string }[];
}

/** Generated ids in level order; the edges are the needs inside the plan. */
function layout(plan: PlanGraph): { levels: GraphNode[][]; edges: { from: GraphNode; to: GraphNode; critical: boolean }[] } {
  const byStep = new Map<string, GraphNode>();
  let n = 0;
  const levels = plan.levels.map((level) =>
    level.map((stepId) => {
      const id = `s${n++}`;
      const step = plan.steps[stepId];
      const node: GraphNode = { id, stepId };
      if (step?.matrix) node.instances = step.invocations.map((label, k) => ({ id: `${id}_${k}`, label }));
      byStep.set(stepId, node);
      return node;
    }),
  );
  const path = plan.criticalPath.path;
  const criticalEdge = (from: string, to: string): boolean => path.some((id, k) => id === from && path[k + 1] === to);
  const edges = [];
  for (const level of levels) {
    for (const to of level) {
      for (const need of plan.steps[to.stepId]?.needs ?? []) {
        const from = byStep.get(need);
        if (from) edges.push({ from, to, critical: criticalEdge(need, to.stepId) });
      }
    }
  }
  return { levels, edges };
}

function stepLabel(plan: PlanGraph, node: GraphNode): string {
  const uses = plan.steps[node.stepId]?.uses;
  const kind = uses && uses !== 'run' ? ` (${uses})` : '';
  return node.instances ? `${node.stepId}${kind} ×${node.instances.length}` : `${node.stepId}${kind}`;
}

// ---------------------------------------------------------------------------------------------- Mermaid

/** A Mermaid label in double quotes: its own entity codes for the characters that end or break it. */
export function mermaidLabel(text: string): string {
  const codes: Record<string, string> = { '"': '#quot;', '#': '#35;', '<': '#lt;', '>': '#gt;', '&': '#amp;', '`': '#96;' };
  return `"${text.replace(/["#<>&`]/g, (c) => codes[c]!).replace(/\s+/g, ' ')}"`;
}

export function renderPlanMermaid(plan: PlanGraph): string {
  const { levels, edges } = layout(plan);
  const critical = new Set(plan.criticalPath.path);
  const out = ['flowchart LR'];
  levels.forEach((level, i) => {
    out.push(`  subgraph L${i + 1}[${mermaidLabel(`level ${i + 1}`)}]`, '    direction TB');
    for (const node of level) {
      if (node.instances) {
        out.push(`    subgraph ${node.id}[${mermaidLabel(stepLabel(plan, node))}]`, '      direction TB');
        for (const inst of node.instances) out.push(`      ${inst.id}[${mermaidLabel(inst.label)}]`);
        out.push('    end');
      } else {
        out.push(`    ${node.id}[${mermaidLabel(stepLabel(plan, node))}]`);
      }
    }
    out.push('  end');
  });
  for (const e of edges) out.push(`  ${e.from.id} ${e.critical ? '==>' : '-->'} ${e.to.id}`);
  const onPath = levels.flat().filter((node) => critical.has(node.stepId));
  out.push('  classDef critical stroke:#8250df,stroke-width:3px');
  if (onPath.length) out.push(`  class ${onPath.map((node) => node.id).join(',')} critical`);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------- Graphviz

/** A DOT double-quoted string. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

const criticalColour = '#8250df';

export function renderPlanDot(plan: PlanGraph): string {
  const { levels, edges } = layout(plan);
  const critical = new Set(plan.criticalPath.path);
  const style = (stepId: string): string => (critical.has(stepId) ? `, color=${dotString(criticalColour)}, penwidth=2.5` : '');
  const out = [
    `digraph ${dotString(plan.pipeline)} {`,
    '  rankdir=LR; compound=true; newrank=true;',
    '  node [shape=box, style=rounded, fontname="Helvetica"]; edge [color="#59636e"];',
  ];
  levels.forEach((level, i) => {
    out.push(`  subgraph cluster_L${i + 1} {`, `    label=${dotString(`level ${i + 1}`)}; style=dashed; color="#d1d9e0"; fontname="Helvetica";`);
    for (const node of level) {
      if (node.instances) {
        out.push(`    subgraph cluster_${node.id} {`, `      label=${dotString(stepLabel(plan, node))}; style=rounded;${critical.has(node.stepId) ? ` color=${dotString(criticalColour)}; penwidth=2.5;` : ''}`);
        for (const inst of node.instances) out.push(`      ${inst.id} [label=${dotString(inst.label)}${style(node.stepId)}];`);
        out.push('    }');
      } else {
        out.push(`    ${node.id} [label=${dotString(stepLabel(plan, node))}${style(node.stepId)}];`);
      }
    }
    out.push('  }');
  });
  // one column per level (newrank lets a rank constraint reach into the clusters)
  for (const level of levels) out.push(`  { rank=same; ${level.flatMap((node) => (node.instances ? node.instances.map((i) => i.id) : [node.id])).join('; ')}; }`);
  // an edge to or from a matrix step is drawn between its box (lhead/ltail) through its first instance
  const end = (node: GraphNode): string => node.instances?.[0]?.id ?? node.id;
  for (const e of edges) {
    const attrs = [
      ...(e.from.instances ? [`ltail=cluster_${e.from.id}`] : []),
      ...(e.to.instances ? [`lhead=cluster_${e.to.id}`] : []),
      ...(e.critical ? [`color=${dotString(criticalColour)}`, 'penwidth=2.5'] : []),
    ];
    out.push(`  ${end(e.from)} -> ${end(e.to)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
