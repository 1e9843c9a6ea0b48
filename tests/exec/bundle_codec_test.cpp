// The bundle codec (compiler/bundle/layout.h): every field of every serialized struct comes back as it was
// written, and damaged bytes are refused at whatever field they break, with a message that names the field.
#include <gtest/gtest.h>

#include <sodium.h>

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "compiler/bundle/bundle.h"
#include "compiler/diag/renderer.h"
#include "compiler/driver/compilation.h"
#include "compiler/ir/lower.h"

using namespace orgos;

namespace {

source::Span span(uint32_t n) {
  source::Span s;
  s.file = n % 3;
  s.begin = n;
  s.end = n + 1;
  s.line = n + 2;
  s.col = n + 3;
  return s;
}

ir::IType list_of_money() {
  ir::IType money = ir::IType::of(ir::Kind::Money);
  money.optional = true;
  money.currency = 840;
  ir::IType t = ir::IType::of(ir::Kind::List);
  t.id = 7;
  t.elem = std::make_shared<ir::IType>(money);
  return t;
}

ir::NodePtr constant(ir::Module& m, ir::Value v, const std::string& text = "") {
  auto n = std::make_unique<ir::Node>();
  n->op = ir::Op::Const;
  n->type = ir::IType::of(ir::Kind::Int);
  n->value = v;
  if (v.tag == ir::kTagString) {
    n->text = text;
    n->value.u.s = m.intern(text);
  }
  n->span = span(40);
  return n;
}

// A bundle in which every field of every struct the codec writes has a value other than its default, and
// every index points at something that exists (so the reader's checks pass).
bundle::Bundle everything() {
  bundle::Bundle b;
  b.source_hash = std::string(64, 'a');
  b.host = "x86_64-pc-linux-gnu";
  b.compiler = "9.9.9";
  b.files = {"a.org", "b.org", "c.org"};
  b.object = {1, 2, 3, 4};
  ir::Module& m = b.module;

  m.layouts.push_back(
      {"Expense", {"amount", "note"}, {list_of_money(), ir::IType::of(ir::Kind::Str)}, {1, ir::kNone}});
  m.layouts.push_back({"Other", {"x"}, {ir::IType::of(ir::Kind::Bool)}, {ir::kNone}});
  m.enums.push_back({"Level", {"low", "high"}});
  for (int i = 0; i < 3; ++i) {
    ir::Function f;
    f.name = "f" + std::to_string(i);
    f.kind = ir::FunctionKind::Check;
    f.params = {list_of_money(), ir::IType::of(ir::Kind::Date)};
    f.param_names = {"a", "b"};
    f.result = ir::IType::of(ir::Kind::Bool);
    f.nlocals = 5;
    f.message = "must hold";
    f.span = span(10 + i);
    auto call = std::make_unique<ir::Node>();
    call->op = i == 0 ? ir::Op::CallTable : ir::Op::CallFn;
    call->type = list_of_money();
    call->index = 0;  // table 0 or function 0
    call->agg = ir::AggKind::Avg;
    call->fn = ir::BuiltinFn::DurHours;
    call->span = span(20 + i);
    call->kids.push_back(constant(m, ir::Value::of_money(12 * ir::kDecOne, ir::currency_code("EUR"))));
    call->kids.push_back(constant(m, ir::Value::none(), ""));
    call->kids.push_back(constant(m, ir::Value::of_int(-5)));
    auto text = ir::Value::none();
    text.tag = ir::kTagString;
    call->kids.push_back(constant(m, text, "hello"));
    f.body = std::move(call);
    m.functions.push_back(std::move(f));
  }
  ir::Table t;
  t.name = "fee";
  t.hit = ir::HitPolicy::Collect;
  t.collect = ir::CollectAgg::Sum;
  t.inputs = {list_of_money()};
  t.outputs = {ir::IType::of(ir::Kind::Dec), ir::IType::of(ir::Kind::Int)};
  t.result_layout = 1;
  t.result = ir::IType::of(ir::Kind::Rec);
  t.span = span(30);
  ir::TableRow row;
  row.condition = constant(m, ir::Value::of_bool(true));
  row.outputs.push_back(constant(m, ir::Value::of_int(3)));
  row.span = span(31);
  t.rows.push_back(std::move(row));
  ir::TableRow always;  // no condition: the row always applies
  always.span = span(32);
  t.rows.push_back(std::move(always));
  m.tables.push_back(std::move(t));

  ir::Program& p = b.program;
  ir::Step s;
  s.kind = ir::StepKind::Switch;
  s.name = "st";
  s.role = "Manager";
  s.layout = 1;
  s.value = 0;
  s.scope = 1;
  s.within = 2;
  s.where = 0;
  s.escalate_role = "Director";
  s.escalate_scope = 1;
  s.fields = {{3, 2}, {4, 1}};
  s.args = {0, 2};
  s.cases = {1, 2};
  s.case_target = {1, 0};
  s.outcomes = {"done", "undone"};
  s.quorum_kind = ir::Quorum::Count;
  s.quorum_n = -2;
  s.quorum_of = 9;
  s.bind_slot = 6;
  s.set_slot = 7;
  s.set_target = 1;
  s.join = 1;
  s.join_count = 2;
  s.on_timeout = 1;
  s.compensation = 0;
  s.max_items = 1000;
  s.parallel = true;
  s.next = {1, 0};
  s.span = span(50);
  ir::ProcessIR proc;
  proc.name = "P";
  proc.frame_layout = 0;
  proc.instance_layout = 1;
  proc.param_slots = {0, 1};
  proc.timeout = 2;
  proc.start = 0;
  proc.on_failure = 1;
  proc.on_timeout = 1;
  proc.error_slot = 4;
  proc.steps = {s, ir::Step{}};
  proc.span = span(60);
  p.processes.push_back(proc);

  ir::LifecycleIR l;
  l.name = "Life";
  l.of_org = true;
  l.subject_layout = 0;
  l.initial = "draft";
  l.states = {"draft", "open", "closed"};
  l.finals = {"closed"};
  l.transitions.push_back({"close", {"draft", "open"}, "closed", 1, 0});
  l.effects.push_back(proc);
  p.lifecycles.push_back(l);

  ir::RuleIR r;
  r.name = "R";
  r.salience = -10;
  ir::PatternIR pt;
  pt.kind = ir::PatternKind::Accumulate;
  pt.layout = 1;
  pt.is_event = true;
  pt.condition = 0;
  pt.alpha = 1;
  pt.eq_slot = 2;
  pt.eq_value = 2;
  pt.keys = {{0, 1}, {2, 0}};
  pt.beta = 1;
  pt.reads = {0, 1};
  r.patterns = {pt, ir::PatternIR{}};
  r.actions = proc;
  p.rules.push_back(r);

  p.policies.push_back({"no_self", true, "approve", "Expense", 2});
  p.roles.push_back(
      {"CFO", {"Employee", "Reader"}, true, {{"approve", "Expense", 1}, {"read", "Report", ir::kNone}}});
  p.orgs.push_back({"Acme",
                    "make",
                    "GmbH",
                    "DE",
                    "EUR",
                    "Life",
                    {{"Sales", "team", "Acme"}},
                    {{"Head", "Manager", "Sales", {"ann", "bob"}}}});
  ir::MetricIR mt;
  mt.name = "spend";
  mt.formula = 0;
  mt.window = 1;
  mt.target = 2;
  mt.warn = 1;
  mt.alert = 0;
  mt.target_op = ir::Comparison::Lt;
  mt.warn_op = ir::Comparison::Le;
  mt.alert_op = ir::Comparison::Gt;
  mt.alert_event = "spend.too_high";
  p.metrics.push_back(mt);
  p.connector_ops.push_back({"bank", "pay", {"amount", "to"}, 1});
  p.events = {"e1", "e2"};
  p.event_layouts = {1, 0};
  p.record_layouts = {0};
  p.record_checks = {{2, 1}, {}};
  return b;
}

#define SAME(field) EXPECT_EQ(a.field, b.field) << #field

void same(const source::Span& a, const source::Span& b) {
  SAME(file);
  SAME(begin);
  SAME(end);
  SAME(line);
  SAME(col);
}

void same(const ir::IType& a, const ir::IType& b) {
  SAME(kind);
  SAME(optional);
  SAME(id);
  SAME(currency);
  ASSERT_EQ(a.elem == nullptr, b.elem == nullptr);
  if (a.elem) same(*a.elem, *b.elem);
}

void same(const ir::Node* a, const ir::Node* b) {
  ASSERT_EQ(a == nullptr, b == nullptr);
  if (!a) return;
  EXPECT_EQ(a->op, b->op);
  same(a->type, b->type);
  EXPECT_EQ(a->index, b->index);
  EXPECT_EQ(a->agg, b->agg);
  EXPECT_EQ(a->fn, b->fn);
  if (a->op == ir::Op::Const) {
    EXPECT_EQ(a->value.tag, b->value.tag);
    EXPECT_EQ(a->value.aux, b->value.aux);
    if (a->value.tag == ir::kTagString)
      EXPECT_EQ(a->value.u.s->view(), b->value.u.s->view());
    else
      EXPECT_TRUE(a->value.u.d == b->value.u.d);
  }
  same(a->span, b->span);
  ASSERT_EQ(a->kids.size(), b->kids.size());
  for (size_t i = 0; i < a->kids.size(); ++i) same(a->kids[i].get(), b->kids[i].get());
}

void same(const ir::Step& a, const ir::Step& b) {
  SAME(kind);
  SAME(name);
  SAME(role);
  SAME(layout);
  SAME(value);
  SAME(scope);
  SAME(within);
  SAME(where);
  SAME(escalate_role);
  SAME(escalate_scope);
  ASSERT_EQ(a.fields.size(), b.fields.size());
  for (size_t i = 0; i < a.fields.size(); ++i) {
    SAME(fields[i].slot);
    SAME(fields[i].function);
  }
  SAME(args);
  SAME(cases);
  SAME(case_target);
  SAME(outcomes);
  SAME(quorum_kind);
  SAME(quorum_n);
  SAME(quorum_of);
  SAME(bind_slot);
  SAME(set_slot);
  SAME(set_target);
  SAME(join);
  SAME(join_count);
  SAME(on_timeout);
  SAME(compensation);
  SAME(max_items);
  SAME(parallel);
  SAME(next);
  same(a.span, b.span);
}

void same(const ir::ProcessIR& a, const ir::ProcessIR& b) {
  SAME(name);
  SAME(frame_layout);
  SAME(instance_layout);
  SAME(param_slots);
  SAME(timeout);
  SAME(start);
  SAME(on_failure);
  SAME(on_timeout);
  SAME(error_slot);
  same(a.span, b.span);
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) same(a.steps[i], b.steps[i]);
}

void same(const bundle::Bundle& a, const bundle::Bundle& b) {
  SAME(source_hash);
  SAME(host);
  SAME(compiler);
  SAME(files);
  SAME(object);
  // The IR section.
  ASSERT_EQ(a.module.layouts.size(), b.module.layouts.size());
  for (size_t i = 0; i < a.module.layouts.size(); ++i) {
    SAME(module.layouts[i].name);
    SAME(module.layouts[i].fields);
    SAME(module.layouts[i].defaults);
    ASSERT_EQ(a.module.layouts[i].types.size(), b.module.layouts[i].types.size());
    for (size_t k = 0; k < a.module.layouts[i].types.size(); ++k)
      same(a.module.layouts[i].types[k], b.module.layouts[i].types[k]);
  }
  ASSERT_EQ(a.module.enums.size(), b.module.enums.size());
  SAME(module.enums[0].name);
  SAME(module.enums[0].values);
  ASSERT_EQ(a.module.functions.size(), b.module.functions.size());
  for (size_t i = 0; i < a.module.functions.size(); ++i) {
    const ir::Function &x = a.module.functions[i], &y = b.module.functions[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.param_names, y.param_names);
    ASSERT_EQ(x.params.size(), y.params.size());
    for (size_t k = 0; k < x.params.size(); ++k) same(x.params[k], y.params[k]);
    same(x.result, y.result);
    EXPECT_EQ(x.nlocals, y.nlocals);
    EXPECT_EQ(x.message, y.message);
    same(x.span, y.span);
    same(x.body.get(), y.body.get());
  }
  ASSERT_EQ(a.module.tables.size(), b.module.tables.size());
  const ir::Table &ta = a.module.tables[0], &tb = b.module.tables[0];
  EXPECT_EQ(ta.name, tb.name);
  EXPECT_EQ(ta.hit, tb.hit);
  EXPECT_EQ(ta.collect, tb.collect);
  ASSERT_EQ(ta.inputs.size(), tb.inputs.size());
  same(ta.inputs[0], tb.inputs[0]);
  ASSERT_EQ(ta.outputs.size(), tb.outputs.size());
  for (size_t k = 0; k < ta.outputs.size(); ++k) same(ta.outputs[k], tb.outputs[k]);
  EXPECT_EQ(ta.result_layout, tb.result_layout);
  same(ta.result, tb.result);
  same(ta.span, tb.span);
  ASSERT_EQ(ta.rows.size(), tb.rows.size());
  for (size_t k = 0; k < ta.rows.size(); ++k) {
    same(ta.rows[k].condition.get(), tb.rows[k].condition.get());
    ASSERT_EQ(ta.rows[k].outputs.size(), tb.rows[k].outputs.size());
    for (size_t o = 0; o < ta.rows[k].outputs.size(); ++o)
      same(ta.rows[k].outputs[o].get(), tb.rows[k].outputs[o].get());
    same(ta.rows[k].span, tb.rows[k].span);
  }
  // The program section.
  ASSERT_EQ(a.program.processes.size(), b.program.processes.size());
  same(a.program.processes[0], b.program.processes[0]);
  ASSERT_EQ(a.program.lifecycles.size(), b.program.lifecycles.size());
  SAME(program.lifecycles[0].name);
  SAME(program.lifecycles[0].of_org);
  SAME(program.lifecycles[0].subject_layout);
  SAME(program.lifecycles[0].initial);
  SAME(program.lifecycles[0].states);
  SAME(program.lifecycles[0].finals);
  ASSERT_EQ(a.program.lifecycles[0].transitions.size(), b.program.lifecycles[0].transitions.size());
  SAME(program.lifecycles[0].transitions[0].name);
  SAME(program.lifecycles[0].transitions[0].from);
  SAME(program.lifecycles[0].transitions[0].to);
  SAME(program.lifecycles[0].transitions[0].guard);
  SAME(program.lifecycles[0].transitions[0].effects);
  ASSERT_EQ(a.program.lifecycles[0].effects.size(), b.program.lifecycles[0].effects.size());
  same(a.program.lifecycles[0].effects[0], b.program.lifecycles[0].effects[0]);
  ASSERT_EQ(a.program.rules.size(), b.program.rules.size());
  SAME(program.rules[0].name);
  SAME(program.rules[0].salience);
  ASSERT_EQ(a.program.rules[0].patterns.size(), b.program.rules[0].patterns.size());
  for (size_t i = 0; i < a.program.rules[0].patterns.size(); ++i) {
    const ir::PatternIR &x = a.program.rules[0].patterns[i], &y = b.program.rules[0].patterns[i];
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.layout, y.layout);
    EXPECT_EQ(x.is_event, y.is_event);
    EXPECT_EQ(x.condition, y.condition);
    EXPECT_EQ(x.alpha, y.alpha);
    EXPECT_EQ(x.eq_slot, y.eq_slot);
    EXPECT_EQ(x.eq_value, y.eq_value);
    ASSERT_EQ(x.keys.size(), y.keys.size());
    for (size_t k = 0; k < x.keys.size(); ++k) {
      EXPECT_EQ(x.keys[k].left, y.keys[k].left);
      EXPECT_EQ(x.keys[k].right, y.keys[k].right);
    }
    EXPECT_EQ(x.beta, y.beta);
    EXPECT_EQ(x.reads, y.reads);
  }
  same(a.program.rules[0].actions, b.program.rules[0].actions);
  ASSERT_EQ(a.program.policies.size(), b.program.policies.size());
  SAME(program.policies[0].name);
  SAME(program.policies[0].forbid);
  SAME(program.policies[0].action);
  SAME(program.policies[0].resource);
  SAME(program.policies[0].when);
  ASSERT_EQ(a.program.roles.size(), b.program.roles.size());
  SAME(program.roles[0].name);
  SAME(program.roles[0].extends);
  SAME(program.roles[0].scoped);
  ASSERT_EQ(a.program.roles[0].grants.size(), b.program.roles[0].grants.size());
  for (size_t k = 0; k < a.program.roles[0].grants.size(); ++k) {
    SAME(program.roles[0].grants[k].action);
    SAME(program.roles[0].grants[k].resource);
    SAME(program.roles[0].grants[k].where);
  }
  ASSERT_EQ(a.program.orgs.size(), b.program.orgs.size());
  const ir::OrgIR &oa = a.program.orgs[0], &ob = b.program.orgs[0];
  EXPECT_EQ(oa.name, ob.name);
  EXPECT_EQ(oa.purpose, ob.purpose);
  EXPECT_EQ(oa.legal_form, ob.legal_form);
  EXPECT_EQ(oa.jurisdiction, ob.jurisdiction);
  EXPECT_EQ(oa.currency, ob.currency);
  EXPECT_EQ(oa.lifecycle, ob.lifecycle);
  ASSERT_EQ(oa.units.size(), ob.units.size());
  EXPECT_EQ(oa.units[0].name, ob.units[0].name);
  EXPECT_EQ(oa.units[0].kind, ob.units[0].kind);
  EXPECT_EQ(oa.units[0].parent, ob.units[0].parent);
  ASSERT_EQ(oa.positions.size(), ob.positions.size());
  EXPECT_EQ(oa.positions[0].name, ob.positions[0].name);
  EXPECT_EQ(oa.positions[0].role, ob.positions[0].role);
  EXPECT_EQ(oa.positions[0].unit, ob.positions[0].unit);
  EXPECT_EQ(oa.positions[0].holders, ob.positions[0].holders);
  ASSERT_EQ(a.program.metrics.size(), b.program.metrics.size());
  SAME(program.metrics[0].name);
  SAME(program.metrics[0].formula);
  SAME(program.metrics[0].window);
  SAME(program.metrics[0].target);
  SAME(program.metrics[0].warn);
  SAME(program.metrics[0].alert);
  SAME(program.metrics[0].target_op);
  SAME(program.metrics[0].warn_op);
  SAME(program.metrics[0].alert_op);
  SAME(program.metrics[0].alert_event);
  ASSERT_EQ(a.program.connector_ops.size(), b.program.connector_ops.size());
  SAME(program.connector_ops[0].connector);
  SAME(program.connector_ops[0].op);
  SAME(program.connector_ops[0].params);
  SAME(program.connector_ops[0].result_layout);
  SAME(program.events);
  SAME(program.event_layouts);
  SAME(program.record_layouts);
  SAME(program.record_checks);
}

std::string refusal(const std::vector<uint8_t>& bytes) {
  auto r = bundle::deserialize(bytes);
  return std::holds_alternative<bundle::LoadError>(r) ? std::get<bundle::LoadError>(r).message : "";
}

// What a hostile or buggy writer can do: change the bytes and then make the checksum fit again, so only
// the reader's own checks stand between the bytes and the runtime.
std::vector<uint8_t> with_checksum(std::vector<uint8_t> body) {
  unsigned char sum[32];
  crypto_generichash(sum, sizeof sum, body.data(), body.size(), nullptr, 0);
  body.insert(body.end(), sum, sum + 32);
  return body;
}

// A real bundle with processes, rules, lifecycles, policies, roles, orgs and metrics, kept small: every
// offset of it is tried below.
bundle::Bundle real() {
  const char* src =
      "enum Level { low, high }\n"
      "record Expense { amount: Money<USD>  note: String  level: Level  check amount > 0 USD }\n"
      "event expense.submitted { expense: Expense }\n"
      "event expense.approved { expense: Expense }\n"
      "role Manager {}\n"
      "policy no_big: forbid approve Expense when resource.amount > 1000 USD\n"
      "org Acme { purpose general  currency USD  units { department Sales }\n"
      "  position boss: Manager in Sales held by \"ann\", \"bob\" }\n"
      "lifecycle Flow for Expense {\n"
      "  initial open\n  final done\n"
      "  transition finish: open -> done when amount > 0 USD { emit expense.approved { expense: self } }\n"
      "}\n"
      "table fee hit first { input a: Money<USD> output f: Money<USD> | < 100 USD || 1 USD | | - || 2 USD | "
      "}\n"
      "process Approve(x: Expense) {\n"
      "  approval review by Manager within 3d\n"
      "  if x.amount > fee(x.amount) { emit expense.approved { expense: x } }\n"
      "  switch x.level { case low => { notify \"a\" \"low\" } else => { notify \"b\" \"high\" } }\n"
      "  on failure { notify \"c\" \"failed: \" + error }\n"
      "}\n"
      "rule route when expense.submitted e then start Approve(e.expense)\n"
      "metric approved = count(e in expense.approved) target >= 1\n";
  auto c = driver::check_text("real.org", src);
  EXPECT_FALSE(c->diags.has_errors()) << diag::render_all_text(c->sources, c->diags);
  auto lowered = ir::lower(*c);
  bundle::Bundle b;
  b.source_hash = bundle::content_hash(*c);
  b.host = "x86_64-pc-linux-gnu";
  b.files = {"real.org"};
  b.module = std::move(lowered.module);
  b.program = std::move(lowered.program);
  b.object = {0xde, 0xad, 0xbe, 0xef};
  EXPECT_FALSE(b.program.processes.empty());
  EXPECT_FALSE(b.program.rules.empty());
  EXPECT_FALSE(b.program.lifecycles.empty());
  return b;
}

}  // namespace

TEST(BundleCodec, EveryFieldOfEveryStructRoundTrips) {
  bundle::Bundle b = everything();
  auto bytes = bundle::serialize(b);
  auto loaded = bundle::deserialize(bytes);
  ASSERT_TRUE(std::holds_alternative<bundle::Bundle>(loaded)) << std::get<bundle::LoadError>(loaded).message;
  same(b, std::get<bundle::Bundle>(loaded));
  EXPECT_EQ(bundle::serialize(std::get<bundle::Bundle>(loaded)), bytes);
}

// The bytes of format version 7, pinned: a change to the layout that keeps the version would make every
// bundle already written misread. (This hash is the one the hand-written codec before layout.h produced.)
// When it was taken, the fixture's metric comparisons were the bytes 4, 5 and 6 (then stored as bare
// ir::Op values, unchecked); typed as ir::Comparison they can only be comparisons (18, 19, 20 above), so
// those three bytes are put back as they were before hashing: every other byte is pinned as written.
TEST(BundleCodec, TheBytesOfThisFormatVersionDoNotChange) {
  auto written = bundle::serialize(everything());
  std::vector<uint8_t> body(written.begin(), written.end() - 32);
  const std::string event =
      std::string(1, '\x0e') + "spend.too_high";  // the metric's alert_event, after its ops
  auto it = std::search(body.begin(), body.end(), event.begin(), event.end());
  ASSERT_NE(it, body.end());
  const size_t at = static_cast<size_t>(it - body.begin());
  ASSERT_EQ(std::vector<uint8_t>(body.begin() + static_cast<long>(at) - 3, it),
            (std::vector<uint8_t>{18, 19, 20}))
      << "target_op, warn_op and alert_op are written as the bytes of their ir::Op";
  body[at - 3] = 4, body[at - 2] = 5, body[at - 1] = 6;
  auto bytes = with_checksum(body);
  unsigned char sum[32];
  crypto_generichash(sum, sizeof sum, bytes.data(), bytes.size(), nullptr, 0);
  std::string hex;
  for (unsigned char c : sum) hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
  ASSERT_EQ(bundle::kFormatVersion, 7u) << "a new format version: pin its bytes below";
  EXPECT_EQ(hex, "bb2916310c339e72946c73e609e6d86cff92307ab17cdbc9695b141cd2cd883d")
      << "the bytes of a bundle changed: raise kFormatVersion (compiler/bundle/bundle.h) so bundles written "
         "before are refused and rebuilt, then pin the new bytes here";
}

TEST(BundleCodec, ATruncationAtEveryOffsetIsRefusedNamingWhereTheDataEnded) {
  auto bytes = bundle::serialize(real());
  std::vector<uint8_t> body(bytes.begin(), bytes.end() - 32);
  ASSERT_LT(body.size(), 20000u) << "keep this bundle small: every offset is tried";
  for (size_t n = sizeof bundle::kMagic; n < body.size(); ++n) {
    std::string why = refusal(with_checksum({body.begin(), body.begin() + static_cast<long>(n)}));
    ASSERT_FALSE(why.empty()) << "a bundle cut at byte " << n << " of " << body.size() << " was loaded";
    // The message says the bundle is damaged, which field it broke at, and what to do.
    ASSERT_NE(why.find("the bundle is damaged: "), std::string::npos) << n << ": " << why;
    ASSERT_NE(why.find(" (reading `"), std::string::npos) << n << ": " << why;
    ASSERT_NE(why.find("rebuild it with `orgctl compile`"), std::string::npos) << n << ": " << why;
  }
}

TEST(BundleCodec, AGarbledByteAnywhereIsLoadedOrRefusedWithAReasonNeverACrash) {
  auto bytes = bundle::serialize(real());
  std::vector<uint8_t> body(bytes.begin(), bytes.end() - 32);
  size_t refused = 0;
  for (size_t i = sizeof bundle::kMagic; i < body.size(); ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      auto copy = body;
      copy[i] ^= mask;
      std::string why = refusal(with_checksum(copy));
      if (why.empty()) continue;  // a harmless byte: a name, a span, a flag
      ++refused;
      ASSERT_NE(why.find("rebuild it with `orgctl compile`"), std::string::npos) << i << ": " << why;
    }
  }
  EXPECT_GT(refused, body.size() / 4);
}

TEST(BundleCodec, AnIndexThatPointsAtNothingIsRefusedNamingTheField) {
  auto check = [](auto damage, const std::string& expected) {
    bundle::Bundle b = everything();
    damage(b);
    std::string why = refusal(bundle::serialize(b));
    EXPECT_NE(why.find(expected), std::string::npos) << why;
  };
  check([](bundle::Bundle& b) { b.program.processes[0].steps[0].value = 99; },
        "`value` of a step names function 99, but there are 3");
  check([](bundle::Bundle& b) { b.program.processes[0].steps[0].next[0] = 5; },
        "`next` of a step names step 5, but there are 2");
  check([](bundle::Bundle& b) { b.program.processes[0].steps[0].case_target[0] = ir::kNone; },
        "`case_target` of a step names no next step");
  check([](bundle::Bundle& b) { b.program.lifecycles[0].transitions[0].effects = 1; },
        "`effects` of a transition names effects block 1, but there are 1");
  check([](bundle::Bundle& b) { b.program.rules[0].patterns[0].reads[1] = 2; },
        "`reads` of a rule pattern names record layout 2, but there are 2");
  check([](bundle::Bundle& b) { b.module.functions[1].body->index = 3; },
        "`index` of an expression names function 3, but there are 3");
  check([](bundle::Bundle& b) { b.module.functions[0].body->index = 1; },
        "`index` of an expression names table 1, but there are 1");
  check([](bundle::Bundle& b) { b.program.record_checks[0][0] = 7; },
        "`record_checks` of the program section names function 7");
  check([](bundle::Bundle& b) { b.module.functions[2].body = nullptr; }, "a function has no body");
}

// The kinds a bundle stores as bytes (an approval's quorum, a pattern's kind, a metric's comparisons) are
// enums whose every value the runtime switches over: a byte that is none of them is refused at load, naming
// the field, instead of running as some default.
TEST(BundleCodec, AKindOutOfItsRangeIsRefusedNamingTheField) {
  auto check = [](auto damage, const std::string& expected) {
    bundle::Bundle b = everything();
    damage(b);
    std::string why = refusal(bundle::serialize(b));
    EXPECT_NE(why.find(expected), std::string::npos) << why;
    EXPECT_NE(why.find("rebuild it with `orgctl compile`"), std::string::npos) << why;
  };
  check([](bundle::Bundle& b) { b.program.processes[0].steps[0].quorum_kind = static_cast<ir::Quorum>(5); },
        "an unknown value 5 (reading `quorum_kind` of a step)");
  check([](bundle::Bundle& b) { b.program.rules[0].patterns[1].kind = static_cast<ir::PatternKind>(4); },
        "an unknown value 4 (reading `kind` of a rule pattern)");
  // Below and above the comparisons: other operations of ir::Op are not comparisons.
  check(
      [](bundle::Bundle& b) { b.program.metrics[0].target_op = static_cast<ir::Comparison>(ir::Op::Today); },
      "an unknown value 3 (reading `target_op` of a metric)");
  check([](bundle::Bundle& b) { b.program.metrics[0].warn_op = static_cast<ir::Comparison>(ir::Op::Mod); },
        "an unknown value 15 (reading `warn_op` of a metric)");
  check([](bundle::Bundle& b) { b.program.metrics[0].alert_op = static_cast<ir::Comparison>(ir::Op::And); },
        "an unknown value 22 (reading `alert_op` of a metric)");
}
