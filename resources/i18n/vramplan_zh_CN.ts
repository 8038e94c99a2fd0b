<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
    <context>
        <name>About</name>
        <message>
            <location filename="../../gui/about.py" line="76" />
            <source>bundle built {built} UTC from commit {commit}</source>
            <translation>安装包构建于 {built} UTC，提交 {commit}</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="79" />
            <source>running from source</source>
            <translation>从源码运行</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="79" />
            <source>bundle (no build stamp)</source>
            <translation>安装包（无构建信息）</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="83" />
            <source>Per-card GPU memory planning for LLM training and serving.  Works fully offline: vramplan never opens a network connection.</source>
            <translation>为 LLM 训练与推理服务规划每张 GPU 的显存。完全离线运行：vramplan 从不建立网络连接。</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="88" />
            <source>component</source>
            <translation>组件</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="88" />
            <source>version</source>
            <translation>版本</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="97" />
            <source>**Third-party notices are missing** (expected {path}).</source>
            <translation>**缺少第三方声明**（应位于 {path}）。</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="111" />
            <source>About vramplan {version}</source>
            <translation>关于 vramplan {version}</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="117" />
            <source>About</source>
            <translation>关于</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="118" />
            <source>Licence texts</source>
            <translation>许可证全文</translation>
        </message>
        <message>
            <location filename="../../gui/about.py" line="153" />
            <source>{path} could not be read: {error}</source>
            <translation>无法读取 {path}：{error}</translation>
        </message>
    </context>
    <context>
        <name>AnalysisDocks</name>
        <message>
            <location filename="../../gui/analysis_docks.py" line="42" />
            <source>Step timeline</source>
            <translation>单步时间线</translation>
        </message>
        <message>
            <location filename="../../gui/analysis_docks.py" line="43" />
            <source>Compare</source>
            <translation>对比</translation>
        </message>
        <message>
            <location filename="../../gui/analysis_docks.py" line="44" />
            <source>Sweep</source>
            <translation>参数扫描</translation>
        </message>
        <message>
            <location filename="../../gui/analysis_docks.py" line="55" />
            <source>Pin as &amp;Baseline</source>
            <translation>固定为基线(&amp;B)</translation>
        </message>
        <message>
            <location filename="../../gui/analysis_docks.py" line="57" />
            <source>Keep the current plan as the baseline and compare every later edit with it</source>
            <translation>把当前方案固定为基线，之后的每次修改都与它对比</translation>
        </message>
        <message>
            <location filename="../../gui/analysis_docks.py" line="59" />
            <source>&amp;Unpin Baseline</source>
            <translation>取消固定基线(&amp;U)</translation>
        </message>
    </context>
    <context>
        <name>App</name>
        <message>
            <location filename="../../gui/app.py" line="126" />
            <source>Restore autosaved plan</source>
            <translation>恢复自动保存的方案</translation>
        </message>
        <message>
            <location filename="../../gui/app.py" line="136" />
            <source>untitled</source>
            <translation>未命名</translation>
        </message>
        <message>
            <location filename="../../gui/app.py" line="137" />
            <source>vramplan did not exit cleanly last time. Restore the autosaved plan “{name}” from {time}?</source>
            <translation>vramplan 上次没有正常退出。要恢复 {time} 自动保存的方案“{name}”吗？</translation>
        </message>
        <message>
            <location filename="../../gui/app.py" line="139" />
            <source>Restore</source>
            <translation>恢复</translation>
        </message>
        <message>
            <location filename="../../gui/app.py" line="139" />
            <source>Discard</source>
            <translation>丢弃</translation>
        </message>
        <message>
            <location filename="../../gui/crash_log.py" line="59" />
            <source>Internal error, the plan is unchanged: {error}</source>
            <translation>内部错误，方案未改动：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/crash_log.py" line="61" />
            <source>(details in {path})</source>
            <translation>（详情见 {path}）</translation>
        </message>
    </context>
    <context>
        <name>CardItem</name>
        <message>
            <source>DP {0}</source>
            <translation type="vanished">DP {0}</translation>
        </message>
        <message>
            <source>&lt;b&gt;{0}&lt;/b&gt; · stage {1} · TP group {2} · DP group {3}</source>
            <translation type="vanished">&lt;b&gt;{0}&lt;/b&gt; · 阶段 {1} · TP 组 {2} · DP 组 {3}</translation>
        </message>
        <message>
            <source>no estimate for this card yet</source>
            <translation type="vanished">这张卡还没有估算结果</translation>
        </message>
        <message>
            <source>card</source>
            <translation type="vanished">卡</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="130" />
            <source>S{0}</source>
            <translation>S{0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/bar_item.py" line="86" />
            <source>of {0}</source>
            <translation>/ {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/bar_item.py" line="192" />
            <source>not computed</source>
            <translation>未计算</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="133" />
            <source>DP {0}/{1}</source>
            <translation>DP {0}/{1}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="231" />
            <source>&lt;b&gt;{0}&lt;/b&gt; · stage {1}</source>
            <translation>&lt;b&gt;{0}&lt;/b&gt; · 阶段 {1}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="233" />
            <source>TP rank {0}/{1} · DP rank {2}/{3}</source>
            <translation>TP rank {0}/{1} · DP rank {2}/{3}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="236" />
            <source>not computed: the plan has an error (see the message above the diagram)</source>
            <translation>未计算：方案有错误（见节点图上方的提示）</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="242" />
            <source>fits, {0} free</source>
            <translation>装得下，剩余 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="243" />
            <source>&lt;b&gt;over capacity by {0}&lt;/b&gt;</source>
            <translation>&lt;b&gt;超出容量 {0}&lt;/b&gt;</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="244" />
            <source>total {0} of {1}: {2}</source>
            <translation>合计 {0} / {1}：{2}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="246" />
            <source>card #{0}</source>
            <translation>卡 #{0}</translation>
        </message>
    </context>
    <context>
        <name>CompareView</name>
        <message>
            <source>{count} cards</source>
            <translation type="obsolete">{count} 张卡</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="275" />
            <source>%n card(s)</source>
            <translation>%n 张卡</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="84" />
            <source>Pin as baseline</source>
            <translation>固定为基线</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="85" />
            <source>Keep the current plan as the baseline; later edits are compared with it</source>
            <translation>把当前方案固定为基线；之后的修改都与它对比</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="87" />
            <source>Open baseline…</source>
            <translation>打开基线…</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="88" />
            <source>Compare the current plan with a saved plan file</source>
            <translation>将当前方案与已保存的方案文件对比</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="90" />
            <source>Unpin</source>
            <translation>取消固定</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="94" />
            <source>with the baseline</source>
            <translation>与基线对比</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="95" />
            <source>busiest vs average EP rank (MoE)</source>
            <translation>最忙与平均 EP rank 对比（MoE）</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="96" />
            <source>Compare the current plan with the pinned baseline, or a mixture-of-experts plan's busiest expert-parallel rank with its average (balanced) rank</source>
            <translation>将当前方案与固定的基线对比，或将 MoE 方案中负载最重的专家并行 rank 与平均（均衡）rank 对比</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="145" />
            <source>Compare:</source>
            <translation>对比：</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="162" />
            <source>What differs</source>
            <translation>差异</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="163" />
            <source>Warnings</source>
            <translation>警告</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="195" />
            <source>Cannot pin: {error}</source>
            <translation>无法固定：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="199" />
            <source>Open baseline plan</source>
            <translation>打开基线方案</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="200" />
            <source>vramplan plans (*.json)</source>
            <translation>vramplan 方案 (*.json)</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="209" />
            <location filename="../../gui/compare_view.py" line="212" />
            <source>Cannot open the baseline: {error}</source>
            <translation>无法打开基线：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="247" />
            <source>Cannot compare: {error}</source>
            <translation>无法对比：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="249" />
            <source>Pin the current plan as the baseline (or open a second plan), then edit it: the differences show here, stage by stage.</source>
            <translation>先把当前方案固定为基线（或打开另一个方案），再修改方案：差异会按阶段显示在这里。</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="252" />
            <source>Add cards to the plan to compare it.</source>
            <translation>先往方案里添加卡，才能对比。</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="271" />
            <source>fits</source>
            <translation>装得下</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="271" />
            <source>does not fit</source>
            <translation>装不下</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="285" />
            <source>Step time and cost: not modelled ({why})</source>
            <translation>单步耗时与成本：未建模（{why}）</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="288" />
            <source>B trains in the same time as A</source>
            <translation>B 与 A 的训练耗时相同</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="290" />
            <source>B trains {pct} slower than A</source>
            <translation>B 比 A 训练慢 {pct}</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="292" />
            <source>B trains {pct} faster than A</source>
            <translation>B 比 A 训练快 {pct}</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="293" />
            <source>{days_a} → {days_b} days, step {a} → {b}, {cost_a} → {cost_b} (the planner's model)</source>
            <translation>{days_a} → {days_b} 天，单步 {a} → {b}，{cost_a} → {cost_b}（按规划器的模型）</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="299" />
            <source>stage</source>
            <translation>阶段</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="299" />
            <source>peak A</source>
            <translation>A 峰值</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="299" />
            <source>peak B</source>
            <translation>B 峰值</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="299" />
            <source>B − A</source>
            <translation>B − A</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="299" />
            <source>headroom A</source>
            <translation>A 余量</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="300" />
            <source>headroom B</source>
            <translation>B 余量</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="301" />
            <source>{unit} per stage: peak = the heaviest card, headroom = the tightest</source>
            <translation>按阶段（{unit}）：峰值 = 占用最高的卡，余量 = 最紧张的卡</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="307" />
            <source>heaviest card: A #{a}, B #{b}</source>
            <translation>占用最高的卡：A #{a}，B #{b}</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="309" />
            <source>all</source>
            <translation>全部</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="339" />
            <source>Warnings (+{added} −{removed})</source>
            <translation>警告（+{added} −{removed}）</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="343" />
            <source>+ appears in B: {message}</source>
            <translation>+ B 中新增：{message}</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="346" />
            <source>− gone in B: {message}</source>
            <translation>− B 中消失：{message}</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="349" />
            <source>The same warnings in A and B</source>
            <translation>A 与 B 的警告相同</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="368" />
            <source>No memory category differs.</source>
            <translation>各显存类别均无差异。</translation>
        </message>
        <message>
            <location filename="../../gui/compare_view.py" line="372" />
            <source>Stage {stage}: what differs (B − A, {unit})</source>
            <translation>阶段 {stage}：差异（B − A，{unit}）</translation>
        </message>
    </context>
    <context>
        <name>Diagram</name>
        <message>
            <location filename="../../gui/diagram/colors.py" line="71" />
            <source>weights</source>
            <translation>权重</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="72" />
            <source>gradients</source>
            <translation>梯度</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="73" />
            <source>optimizer states</source>
            <translation>优化器状态</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="74" />
            <source>activations</source>
            <translation>激活</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="75" />
            <source>logits</source>
            <translation>logits</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="76" />
            <source>communication</source>
            <translation>通信</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="77" />
            <source>transient buffers</source>
            <translation>临时缓冲区</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="78" />
            <source>KV cache</source>
            <translation>KV 缓存</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="79" />
            <source>overhead</source>
            <translation>额外开销</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="86" />
            <source>stage {0}</source>
            <translation>阶段 {0}</translation>
        </message>
    </context>
    <context>
        <name>DiagramController</name>
        <message>
            <source>Not done: {0}</source>
            <translation type="vanished">未执行：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/controller.py" line="126" />
            <source>Rename node</source>
            <translation>重命名节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/controller.py" line="83" />
            <source>Add {0}</source>
            <translation>添加 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/controller.py" line="88" />
            <source>Add node with {0}</source>
            <translation>添加带 {0} 的节点</translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/controller.py" line="110" />
            <source>Move %n card(s)</source>
            <translation>
                <numerusform>移动 %n 张卡</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/controller.py" line="115" />
            <source>Move %n card(s) to a new node</source>
            <translation>
                <numerusform>将 %n 张卡移到新节点</numerusform>
            </translation>
        </message>
        <message>
            <location filename="../../gui/diagram/controller.py" line="123" />
            <source>Move node</source>
            <translation>移动节点</translation>
        </message>
    </context>
    <context>
        <name>DiagramScene</name>
        <message>
            <source>{0} card(s)</source>
            <translation type="vanished">{0} 张卡</translation>
        </message>
        <message>
            <source>Cannot estimate: {0}</source>
            <translation type="vanished">无法估算：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/interaction.py" line="202" />
            <source>%n card(s)</source>
            <translation>%n 张卡</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/scene.py" line="165" />
            <source>Not computed: {0}</source>
            <translation>未计算：{0}</translation>
        </message>
    </context>
    <context>
        <name>DiagramView</name>
        <message>
            <location filename="../../gui/diagram/view.py" line="51" />
            <source>Node diagram</source>
            <translation>节点图</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="63" />
            <source>Fit Diagram to Window</source>
            <translation>节点图适应窗口</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="65" />
            <source>Zoom so that every node shows</source>
            <translation>缩放到能看到所有节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="232" />
            <source>No cards yet. Drag a GPU from the palette on the left onto the canvas to start a node.</source>
            <translation>还没有卡。从左侧 GPU 面板把 GPU 拖到画布上，即可新建节点。</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="234" />
            <source>No cards yet. Drag a GPU from the palette onto an empty slot of a node.</source>
            <translation>还没有卡。从 GPU 面板把 GPU 拖到节点的空卡槽上。</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="256" />
            <source>click to dismiss</source>
            <translation>点击关闭</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="285" />
            <source>Stage</source>
            <translation>阶段</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="285" />
            <source>Memory</source>
            <translation>显存</translation>
        </message>
    </context>
    <context>
        <name>FileActions</name>
        <message>
            <location filename="../../gui/file_actions.py" line="27" />
            <source>vramplan plan (*.json);;All files (*)</source>
            <translation>vramplan 方案 (*.json);;所有文件 (*)</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="38" />
            <source>&amp;New</source>
            <translation>新建(&amp;N)</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="39" />
            <source>&amp;Open…</source>
            <translation>打开(&amp;O)…</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="40" />
            <source>&amp;Save</source>
            <translation>保存(&amp;S)</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="41" />
            <source>Save &amp;As…</source>
            <translation>另存为(&amp;A)…</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="43" />
            <source>Open &amp;Recent</source>
            <translation>最近打开(&amp;R)</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="58" />
            <source>Could not open {file}: {error}</source>
            <translation>无法打开 {file}：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="63" />
            <source>Opened {file}</source>
            <translation>已打开 {file}</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="70" />
            <source>Could not save {file}: {error}</source>
            <translation>无法保存 {file}：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="75" />
            <source>Saved {file}</source>
            <translation>已保存 {file}</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="101" />
            <source>Open plan</source>
            <translation>打开方案</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="112" />
            <source>Save plan as</source>
            <translation>方案另存为</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="124" />
            <source>Unsaved changes</source>
            <translation>未保存的更改</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="125" />
            <source>The plan “{name}” has unsaved changes. Save them first?</source>
            <translation>方案“{name}”有未保存的更改。要先保存吗？</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="143" />
            <source>(none)</source>
            <translation>（无）</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="146" />
            <source>Clear list</source>
            <translation>清空列表</translation>
        </message>
    </context>
    <context>
        <name>GpuPalette</name>
        <message>
            <location filename="../../gui/palette.py" line="101" />
            <source>Name:</source>
            <translation>名称：</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="145" />
            <source>Memory</source>
            <translation>显存</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="46" />
            <source>Consumer</source>
            <translation>消费级</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="47" />
            <source>Workstation</source>
            <translation>工作站</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="48" />
            <source>Datacenter</source>
            <translation>数据中心</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="49" />
            <source>Edge and mobile</source>
            <translation>边缘与移动端</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="50" />
            <source>Custom</source>
            <translation>自定义</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="90" />
            <location filename="../../gui/palette.py" line="141" />
            <source>Add a custom GPU</source>
            <translation>添加自定义 GPU</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="93" />
            <source>e.g. My lab card</source>
            <translation>例如：实验室的卡</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="95" />
            <source>e.g. 24GiB or 80GB</source>
            <translation>例如 24GiB 或 80GB</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="96" />
            <source>Memory as the driver reports it; GB = 10⁹ bytes, GiB = 2³⁰ bytes</source>
            <translation>填写驱动报告的显存；GB = 10⁹ 字节，GiB = 2³⁰ 字节</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="102" />
            <source>Memory:</source>
            <translation>显存：</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="116" />
            <source>added by the user</source>
            <translation>用户添加</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="122" />
            <source>Could not save: {0}</source>
            <translation>无法保存：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="135" />
            <source>Search GPUs…</source>
            <translation>搜索 GPU…</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="137" />
            <source>Search GPUs</source>
            <translation>搜索 GPU</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="140" />
            <source>Add a custom GPU (name and memory)</source>
            <translation>添加自定义 GPU（名称和显存）</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="145" />
            <source>GPU</source>
            <translation>GPU</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="157" />
            <source>Drag a GPU onto a node, or onto empty canvas to create a node</source>
            <translation>把 GPU 拖到节点上；拖到空白画布上则新建节点</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="213" />
            <source>{0} ({1}): {2} = {3}, as the driver reports it{4}</source>
            <translation>{0}（{1}）：{2} = {3}，按驱动报告的显存{4}</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="215" />
            <source>; sold as {0}</source>
            <translation>；标称 {0}</translation>
        </message>
    </context>
    <context>
        <name>GridDialog</name>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="18" />
            <source>Fill with TP × PP × DP grid</source>
            <translation>按 TP × PP × DP 网格填充</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="20" />
            <source>Cards get roles in Megatron rank order: TP fastest, then DP, PP slowest.
The selected nodes have {0} slots; empty slots are filled.</source>
            <translation>按 Megatron 的 rank 顺序给卡分配角色：TP 变化最快，其次是 DP，PP 最慢。
选中的节点共有 {0} 个卡槽；空卡槽会被填上。</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="24" />
            <source>Tensor parallel (TP):</source>
            <translation>张量并行（TP）：</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="25" />
            <source>Pipeline stages (PP):</source>
            <translation>流水线阶段数（PP）：</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="26" />
            <source>Data parallel / ZeRO (DP):</source>
            <translation>数据并行 / ZeRO（DP）：</translation>
        </message>
    </context>
    <context>
        <name>Language</name>
        <message>
            <location filename="../../gui/i18n.py" line="88" />
            <source>&amp;Language</source>
            <translation>语言(&amp;L)</translation>
        </message>
        <message>
            <location filename="../../gui/i18n.py" line="91" />
            <source>Follow the system</source>
            <translation>跟随系统</translation>
        </message>
        <message>
            <location filename="../../gui/i18n.py" line="103" />
            <source>The language changes to {language} the next time vramplan starts.</source>
            <translation>下次启动 vramplan 时，界面语言将切换为“{language}”。</translation>
        </message>
    </context>
    <context>
        <name>LaunchImport</name>
        <message>
            <location filename="../../gui/launch_import.py" line="33" />
            <source>Import launch config</source>
            <translation>导入启动配置</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="39" />
            <source>Megatron-LM arguments</source>
            <translation>Megatron-LM 参数</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="40" />
            <source>DeepSpeed config (JSON, applied to the current model)</source>
            <translation>DeepSpeed 配置（JSON，应用于当前模型）</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="41" />
            <source>Format:</source>
            <translation>格式：</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="46" />
            <source>GPU:</source>
            <translation>GPU：</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="49" />
            <source>Paste e.g. torchrun … pretrain_gpt.py --tensor-model-parallel-size 2 …</source>
            <translation>粘贴启动命令，例如 torchrun … pretrain_gpt.py --tensor-model-parallel-size 2 …</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <location filename="../../gui/main_window.py" line="125" />
            <source>GPUs</source>
            <translation>GPU</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="137" />
            <location filename="../../gui/plan_errors.py" line="68" />
            <location filename="../../gui/plan_errors.py" line="72" />
            <source>Workload</source>
            <translation>工作负载</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="138" />
            <location filename="../../gui/plan_errors.py" line="75" />
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="139" />
            <location filename="../../gui/plan_errors.py" line="64" />
            <source>Stages</source>
            <translation>阶段</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="140" />
            <source>Plan settings</source>
            <translation>方案设置</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="143" />
            <source>Warnings</source>
            <translation>警告</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="150" />
            <source>Planner</source>
            <translation>规划器</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="161" />
            <source>Use weight format {format}</source>
            <translation>使用权重格式 {format}</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="32" />
            <source>&amp;Undo</source>
            <translation>撤销(&amp;U)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="34" />
            <source>&amp;Redo</source>
            <translation>重做(&amp;R)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="36" />
            <source>Undo</source>
            <translation>撤销</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="37" />
            <source>Redo</source>
            <translation>重做</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="62" />
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="65" />
            <source>New from &amp;Template</source>
            <translation>从模板新建(&amp;T)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="71" />
            <source>Export &amp;PDF…</source>
            <translation>导出 PDF(&amp;P)…</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="72" />
            <source>Export &amp;Launch Config…</source>
            <translation>导出启动配置(&amp;L)…</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="73" />
            <source>&amp;Import Launch Config…</source>
            <translation>导入启动配置(&amp;I)…</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="75" />
            <source>&amp;Quit</source>
            <translation>退出(&amp;Q)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="79" />
            <source>&amp;Edit</source>
            <translation>编辑(&amp;E)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="81" />
            <source>&amp;Layout</source>
            <translation>布局(&amp;L)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="88" />
            <source>Pipeline &amp;Stage</source>
            <translation>流水线阶段(&amp;S)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="94" />
            <source>&amp;View</source>
            <translation>视图(&amp;V)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="95" />
            <source>&amp;Units</source>
            <translation>单位(&amp;U)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="98" />
            <source>GB (10⁹ bytes)</source>
            <translation>GB（10⁹ 字节）</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="99" />
            <source>GiB (2³⁰ bytes)</source>
            <translation>GiB（2³⁰ 字节）</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="104" />
            <source>&amp;Dark Theme</source>
            <translation>深色主题(&amp;D)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="120" />
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="121" />
            <source>&amp;About vramplan</source>
            <translation>关于 vramplan(&amp;A)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="124" />
            <source>Main toolbar</source>
            <translation>主工具栏</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="131" />
            <source>New</source>
            <translation>新建</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="132" />
            <source>Open</source>
            <translation>打开</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="133" />
            <source>Save</source>
            <translation>保存</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="142" />
            <source>Units for every figure: GB = 10⁹ bytes, GiB = 2³⁰ bytes</source>
            <translation>所有数值的单位：GB = 10⁹ 字节，GiB = 2³⁰ 字节</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="154" />
            <source>Pipeline Stage</source>
            <translation>流水线阶段</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="194" />
            <source>Export PDF</source>
            <translation>导出 PDF</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="207" />
            <location filename="../../gui/window_actions.py" line="236" />
            <source>Exported {file}</source>
            <translation>已导出 {file}</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="216" />
            <source>Import launch config</source>
            <translation>导入启动配置</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="220" />
            <source>Imported; flags without effect on memory: {flags}</source>
            <translation>已导入；不影响显存的参数：{flags}</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="227" />
            <source>Export launch config</source>
            <translation>导出启动配置</translation>
        </message>
    </context>
    <context>
        <name>ModelPanel</name>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="39" />
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="42" />
            <source>Custom</source>
            <translation>自定义</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="46" />
            <source>Preset:</source>
            <translation>预设：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="47" />
            <source>Open config.json…</source>
            <translation>打开 config.json…</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="48" />
            <source>Read a Hugging Face config.json offline; you can also drop it on the window</source>
            <translation>离线读取 Hugging Face 的 config.json；也可以直接拖到窗口上</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="54" />
            <source>Layers:</source>
            <translation>层数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="55" />
            <source>Hidden size:</source>
            <translation>隐藏层维度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="56" />
            <source>Attention heads:</source>
            <translation>注意力头数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="57" />
            <source>KV heads:</source>
            <translation>KV 头数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="57" />
            <source>= heads</source>
            <translation>= 注意力头数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="58" />
            <source>MLP size:</source>
            <translation>MLP 维度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="58" />
            <source>4 × hidden</source>
            <translation>4 × 隐藏层维度</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="59" />
            <source>Vocabulary:</source>
            <translation>词表大小：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="59" />
            <source>not given</source>
            <translation>未指定</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="60" />
            <source>Without a vocabulary the declared parameter count is used (the article's level)</source>
            <translation>未指定词表时使用标称参数量（与文章的粒度一致）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="62" />
            <source>Save as my preset…</source>
            <translation>存为我的预设…</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="64" />
            <source>Keep this model in your own catalog (a JSON file you can share)</source>
            <translation>把这个模型存进你自己的目录（一个可以分享的 JSON 文件）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="74" />
            <source>Architecture</source>
            <translation>模型结构</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="75" />
            <source>Head dimension:</source>
            <translation>头维度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="76" />
            <source>hidden / heads</source>
            <translation>隐藏层维度 / 头数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="77" />
            <source>Sliding window:</source>
            <translation>滑动窗口：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="78" />
            <source>none</source>
            <translation>无</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="78" />
            <source> tokens</source>
            <translation> token</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="79" />
            <source>Attention window of the sliding-window layers (Mistral, Gemma 2/3); their KV cache keeps at most this many tokens</source>
            <translation>滑动窗口层的注意力窗口（Mistral、Gemma 2/3）；这些层的 KV 缓存最多保留这么多 token</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="81" />
            <source>Window layers:</source>
            <translation>窗口层数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="82" />
            <source>all layers</source>
            <translation>所有层</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="83" />
            <source>How many layers use the window, spread evenly over the model (Gemma 3 27B: 52 of 62); the others attend to the whole context</source>
            <translation>使用滑动窗口的层数，均匀分布在整个模型中（Gemma 3 27B：62 层中的 52 层）；其余层关注整个上下文</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="85" />
            <source>Norm:</source>
            <translation>归一化：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="87" />
            <source>Norms per layer:</source>
            <translation>每层归一化数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="88" />
            <source>1 for a parallel block whose attention and MLP share one norm (GPT-J, Falcon-7B, phi-1.5); 4 with norms before and after each part (Gemma 2/3)</source>
            <translation>1：并行块中注意力与 MLP 共用一个归一化（GPT-J、Falcon-7B、phi-1.5）；4：每部分前后各一个归一化（Gemma 2/3）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="91" />
            <source>Dropout:</source>
            <translation>Dropout：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="92" />
            <source>Gated MLP (SwiGLU, 3 matrices)</source>
            <translation>门控 MLP（SwiGLU，3 个矩阵）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="93" />
            <source>Parallel attention and MLP</source>
            <translation>注意力与 MLP 并行</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="94" />
            <source>Attention and MLP both read the layer input and add to it together (GPT-J, GPT-NeoX, Falcon, phi)</source>
            <translation>注意力与 MLP 读取同一层输入，结果一起加回残差（GPT-J、GPT-NeoX、Falcon、phi）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="96" />
            <source>Biases on linear layers</source>
            <translation>线性层带偏置</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="97" />
            <source>Tied input and output embeddings</source>
            <translation>输入与输出嵌入共享权重</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="105" />
            <source>Save model preset</source>
            <translation>保存模型预设</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="106" />
            <source>Preset name:</source>
            <translation>预设名称：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="118" />
            <source>Saved to {path}</source>
            <translation>已保存到 {path}</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="126" />
            <source>Name:</source>
            <translation>名称：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="129" />
            <location filename="../../gui/panels/model_panel.py" line="197" />
            <source>e.g. 13B or 13e9</source>
            <translation>例如 13B 或 13e9</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="132" />
            <source>Parameters:</source>
            <translation>参数量：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="136" />
            <source>Counted:</source>
            <translation>按结构计算：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="144" />
            <source>Use model {name}</source>
            <translation>使用模型 {name}</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="149" />
            <source>Rename model</source>
            <translation>重命名模型</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="161" />
            <source>Set parameter count</source>
            <translation>设置参数量</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="164" />
            <source>Open model config</source>
            <translation>打开模型配置</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="164" />
            <source>Model config (*.json);;All files (*)</source>
            <translation>模型配置 (*.json);;所有文件 (*)</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="177" />
            <source>Load model from {file}</source>
            <translation>从 {file} 加载模型</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="189" />
            <source>Only with a sliding window: set the window first.</source>
            <translation>仅在有滑动窗口时可用：请先设置窗口。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="197" />
            <source>from the architecture</source>
            <translation>由模型结构计算</translation>
        </message>
    </context>
    <context>
        <name>NodeItem</name>
        <message>
            <location filename="../../gui/diagram/node_item.py" line="82" />
            <source>{0} slots</source>
            <translation>{0} 个卡槽</translation>
        </message>
    </context>
    <context>
        <name>NoticeBar</name>
        <message>
            <location filename="../../gui/panels/notice_bar.py" line="26" />
            <source>Dismiss</source>
            <translation>关闭</translation>
        </message>
    </context>
    <context>
        <name>PlanDocument</name>
        <message>
            <location filename="../../gui/document.py" line="192" />
            <source>baseline</source>
            <translation>基线</translation>
        </message>
        <message>
            <location filename="../../gui/document.py" line="193" />
            <source>current plan</source>
            <translation>当前方案</translation>
        </message>
    </context>
    <context>
        <name>PlanErrors</name>
        <message>
            <location filename="../../gui/plan_errors.py" line="28" />
            <source>layers</source>
            <translation>层数</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="29" />
            <source>attention heads</source>
            <translation>注意力头数</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="30" />
            <source>KV heads</source>
            <translation>KV 头数</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="31" />
            <source>hidden size</source>
            <translation>隐藏层维度</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="32" />
            <source>experts</source>
            <translation>专家数</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="33" />
            <source>max model length</source>
            <translation>最大模型长度</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="34" />
            <source>micro-batch</source>
            <translation>微批次</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="35" />
            <source>layers per stage</source>
            <translation>每阶段层数</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="36" />
            <source>kind</source>
            <translation>类型</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="37" />
            <source>ZeRO stage</source>
            <translation>ZeRO 阶段</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="60" />
            <source>Plan settings</source>
            <translation>方案设置</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="65" />
            <source>the diagram</source>
            <translation>节点图</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="117" />
            <source>The model's {layers} layers do not split evenly over {stages} pipeline stages. Give each stage its layers in Plan settings ▸ Stages (untick “Even split”), or use a number of stages that divides {layers}.</source>
            <translation>模型的 {layers} 层无法均分到 {stages} 个流水线阶段。请在 方案设置 ▸ 阶段 中为每个阶段指定层数（取消勾选“均分”），或改用能整除 {layers} 的阶段数。</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="122" />
            <source>The layers per stage ({split}) must add up to the model's {layers} layers, at least one on every stage (Plan settings ▸ Stages).</source>
            <translation>各阶段层数（{split}）之和必须等于模型的 {layers} 层，且每个阶段至少一层（方案设置 ▸ 阶段）。</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="127" />
            <source>Stage {stage} has no cards: stages run from 1 to {last} without gaps. Select cards and press {stage} to put them on stage {stage}.</source>
            <translation>阶段 {stage} 没有卡：阶段须从 1 连续编号到 {last}，中间不能空缺。选中卡后按 {stage} 键，即可把它们放到阶段 {stage}。</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="132" />
            <source>A TP group has cards on stages {stages}: all cards of a TP group hold the same layers, so they need one stage. Give them one stage, or select cards and press T for a new TP group.</source>
            <translation>有一个 TP 组的卡分布在阶段 {stages}：同一 TP 组的卡持有相同的层，必须处于同一阶段。请把它们设为同一阶段，或选中卡后按 T 新建 TP 组。</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="136" />
            <source>Tensor parallelism over {tp} cards does not fit this model: expected {allowed} (the TP groups on the diagram).</source>
            <translation>{tp} 张卡的张量并行不适用于这个模型：应为 {allowed}（即节点图上的 TP 组）。</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="140" />
            <source>llama.cpp runs one card per stage (it splits the layers across cards): remove the data-parallel copies, or choose another runtime.</source>
            <translation>llama.cpp 每个阶段只用一张卡（它把层拆分到各张卡上）：请删除数据并行副本，或换用其他推理框架。</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="142" />
            <source>{place}: {value} does not work here; expected {allowed}.</source>
            <translation>{place}：{value} 在这里不可用；应为 {allowed}。</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="149" />
            <source>Not done: the selected cards are on stages {stages}, and a TP group holds the cards of one stage.</source>
            <translation>未执行：选中的卡位于阶段 {stages}，而一个 TP 组只能包含同一阶段的卡。</translation>
        </message>
        <message>
            <location filename="../../gui/plan_errors.py" line="151" />
            <source>Not done: {value}: expected {allowed}.</source>
            <translation>未执行：{value}：应为 {allowed}。</translation>
        </message>
    </context>
    <context>
        <name>PlannerPanel</name>
        <message>
            <source>Best ({0}): {1} cards, TP {2} × PP {3} × DP {4}, ZeRO-{5}; {6:.3g} s per step; binding: {7}.</source>
            <translation type="vanished">最优（{0}）：{1} 张卡，TP {2} × PP {3} × DP {4}，ZeRO-{5}；每步 {6:.3g} 秒；瓶颈：{7}。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="54" />
            <source>cards</source>
            <translation>卡数</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="54" />
            <source>TP</source>
            <translation>TP</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="55" />
            <source>PP</source>
            <translation>PP</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="55" />
            <source>DP</source>
            <translation>DP</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="56" />
            <source>CP</source>
            <translation>CP</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="56" />
            <source>VPP</source>
            <translation>VPP</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="57" />
            <source>ZeRO</source>
            <translation>ZeRO</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="57" />
            <source>recompute</source>
            <translation>重计算</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="58" />
            <source>mb</source>
            <translation>微批</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="58" />
            <source>SP</source>
            <translation>SP</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="59" />
            <source>layers/stage</source>
            <translation>层/阶段</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="59" />
            <source>max card</source>
            <translation>单卡最高</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="60" />
            <source>headroom</source>
            <translation>余量</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="60" />
            <source>step s</source>
            <translation>单步（秒）</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="61" />
            <source>tok/s/GPU</source>
            <translation>tok/s/GPU</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="61" />
            <source>days</source>
            <translation>天数</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="62" />
            <source>binding</source>
            <translation>瓶颈</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="307" />
            <source>Best ({0}): %n card(s), TP {2} × PP {3} × DP {4}, ZeRO-{5}; {6:.3g} s per step; binding: {7}.</source>
            <translation>最优（{0}）：%n 张卡，TP {2} × PP {3} × DP {4}，ZeRO-{5}；每步 {6:.3g} 秒；瓶颈：{7}。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="213" />
            <source>GPU</source>
            <translation>GPU</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="167" />
            <location filename="../../gui/planner_panel.py" line="268" />
            <source>Search layouts</source>
            <translation>搜索布局</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="169" />
            <source>Apply</source>
            <translation>应用</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="172" />
            <source>Pick a GPU and a card budget, then search.</source>
            <translation>选择 GPU 和卡数上限，然后搜索。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="195" />
            <source>cards (log)</source>
            <translation>卡数（对数）</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="207" />
            <source>Pareto front: fewer cards, less training time, more memory headroom. Colour: headroom of the heaviest card (red: tight, green: half free).</source>
            <translation>帕累托前沿：卡更少、训练时间更短、显存余量更多。颜色：占用最高那张卡的余量（红：紧张，绿：空闲一半）。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="213" />
            <source>GPUs per node</source>
            <translation>每节点 GPU 数</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="213" />
            <source>Max GPUs</source>
            <translation>最多 GPU 数</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="214" />
            <source>Objective</source>
            <translation>优化目标</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="214" />
            <source>Safety margin</source>
            <translation>安全余量</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="214" />
            <source>MFU</source>
            <translation>MFU</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="221" />
            <source>Fraction of each card's memory kept free</source>
            <translation>每张卡预留不用的显存比例</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="222" />
            <source>Fraction of the peak BF16 TFLOP/s the kernels reach</source>
            <translation>算子能达到的 BF16 峰值 TFLOP/s 的比例</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="249" />
            <location filename="../../gui/planner_panel.py" line="270" />
            <source>Cannot search: {0}</source>
            <translation>无法搜索：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="254" />
            <source>Searching up to {0} × {1} …</source>
            <translation>正在搜索，最多 {0} × {1} …</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="256" />
            <source>Restart search</source>
            <translation>重新搜索</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="295" />
            <source>even</source>
            <translation>均分</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="302" />
            <source>{0:,} configurations: {1:,} evaluated, {2:,} pruned; {3:,} layouts on the front.</source>
            <translation>共 {0:,} 种配置：评估 {1:,} 种，剪枝 {2:,} 种；前沿上有 {3:,} 种布局。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="305" />
            <source>No layout fits with a {0:.0%} margin. </source>
            <translation>留 {0:.0%} 余量时没有装得下的布局。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="315" />
            <source>days to train (log)</source>
            <translation>训练天数（对数）</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="316" />
            <source>Pareto front: fewer cards, less time to train {0:.3g} tokens, more memory headroom. Colour: headroom of the heaviest card (red: tight, green: half free); grey: front layouts beyond the first {1} listed.</source>
            <translation>帕累托前沿：卡更少、训练 {0:.3g} 个 token 的时间更短、显存余量更多。颜色：占用最高那张卡的余量（红：紧张，绿：空闲一半）；灰：排在前 {1} 个之后的前沿布局。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="351" />
            <source>Make this layout the plan's: {0}</source>
            <translation>把这个布局用作方案的布局：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="367" />
            <source>Apply planner layout {0}</source>
            <translation>应用规划器布局 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="368" />
            <source>Applied {0}; Edit ▸ Undo restores the previous layout.</source>
            <translation>已应用 {0}；编辑 ▸ 撤销 可恢复之前的布局。</translation>
        </message>
    </context>
    <context>
        <name>RoleActions</name>
        <message>
            <location filename="../../gui/diagram/actions.py" line="45" />
            <source>Set stage {0}</source>
            <translation>设为阶段 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="46" />
            <source>Put the selected cards on pipeline stage {0}</source>
            <translation>把选中的卡放到流水线阶段 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="48" />
            <source>S{0}</source>
            <translation>S{0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="51" />
            <source>New TP group</source>
            <translation>新建 TP 组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="51" />
            <source>The selected cards form one tensor-parallel group</source>
            <translation>选中的卡组成一个张量并行组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="52" />
            <source>TP group</source>
            <translation>TP 组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="54" />
            <source>New ZeRO/DP group</source>
            <translation>新建 ZeRO/DP 组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="55" />
            <source>The selected cards form one data-parallel (ZeRO) group</source>
            <translation>选中的卡组成一个数据并行（ZeRO）组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="56" />
            <source>DP group</source>
            <translation>DP 组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="58" />
            <source>Fill with TP × PP × DP grid…</source>
            <translation>按 TP × PP × DP 网格填充…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="59" />
            <source>Give the selected nodes' cards a grid in Megatron rank order</source>
            <translation>按 Megatron 的 rank 顺序给选中节点的卡分配网格</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="60" />
            <source>Grid…</source>
            <translation>网格…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="62" />
            <source>Delete</source>
            <translation>删除</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="63" />
            <source>Delete the selected cards (or the current node)</source>
            <translation>删除选中的卡（或当前节点）</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="65" />
            <source>Duplicate node ×N…</source>
            <translation>复制节点 ×N…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="66" />
            <source>Add copies of the node as data-parallel replicas</source>
            <translation>添加该节点的副本，作为数据并行副本</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="67" />
            <source>Duplicate…</source>
            <translation>复制…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="69" />
            <source>Rename node…</source>
            <translation>重命名节点…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="69" />
            <source>Rename the selected node</source>
            <translation>重命名选中的节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="70" />
            <source>Rename</source>
            <translation>重命名</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="72" />
            <location filename="../../gui/diagram/actions.py" line="180" />
            <source>Arrange nodes</source>
            <translation>排列节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="72" />
            <source>Place all nodes on a tidy grid</source>
            <translation>把所有节点整齐排成网格</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="73" />
            <source>Arrange</source>
            <translation>排列</translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="127" />
            <source>Set stage {0} on %n card(s)</source>
            <translation>
                <numerusform>将 %n 张卡设为阶段 {0}</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="132" />
            <source>New TP group of %n card(s)</source>
            <translation>
                <numerusform>用 %n 张卡新建 TP 组</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="137" />
            <source>New ZeRO/DP group of %n card(s)</source>
            <translation>
                <numerusform>用 %n 张卡新建 ZeRO/DP 组</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="143" />
            <source>Delete %n card(s)</source>
            <translation>
                <numerusform>删除 %n 张卡</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="146" />
            <source>Delete %n node(s)</source>
            <translation>
                <numerusform>删除 %n 个节点</numerusform>
            </translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="153" />
            <source>Duplicate node</source>
            <translation>复制节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="154" />
            <source>Copies (added as data-parallel replicas):</source>
            <translation>副本数（作为数据并行副本添加）：</translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="158" />
            <source>Duplicate %n node(s)</source>
            <translation>
                <numerusform>复制 %n 个节点</numerusform>
            </translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="170" />
            <location filename="../../gui/diagram/actions.py" line="173" />
            <source>Rename node</source>
            <translation>重命名节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="170" />
            <source>Name:</source>
            <translation>名称：</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="195" />
            <source>Fill grid TP {0} × PP {1} × DP {2}</source>
            <translation>填充网格 TP {0} × PP {1} × DP {2}</translation>
        </message>
    </context>
    <context>
        <name>ServingPanel</name>
        <message>
            <location filename="../../gui/serving_panel.py" line="67" />
            <source>Serving answers</source>
            <translation>推理服务结论</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="113" />
            <source>Use {format}</source>
            <translation>使用 {format}</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="119" />
            <source>card #{index} ({gpu})</source>
            <translation>卡 #{index}（{gpu}）</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="122" />
            <source>not even one token fits on {card}</source>
            <translation>{card} 连一个 token 都放不下</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="124" />
            <source>limited by the model's trained context ({tokens} tokens)</source>
            <translation>受模型训练时的上下文长度限制（{tokens} token）</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="127" />
            <location filename="../../gui/serving_panel.py" line="133" />
            <source>limited by the memory of {card}</source>
            <translation>受 {card} 的显存限制</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="129" />
            <source>not one sequence fits on {card}</source>
            <translation>{card} 连一条序列都放不下</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="131" />
            <source>limited by the KV pool of {card}</source>
            <translation>受 {card} 的 KV 池限制</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="135" />
            <source>Longest context at %n sequence(s)</source>
            <translation>%n 条并发时的最长上下文</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="138" />
            <location filename="../../gui/serving_panel.py" line="148" />
            <source>{tokens} tokens</source>
            <translation>{tokens} token</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="139" />
            <source>Concurrent sequences at {tokens} tokens</source>
            <translation>{tokens} token 时的并发数</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="147" />
            <source>KV pool ({runtime})</source>
            <translation>KV 池（{runtime}）</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="152" />
            <source>Sampler warm-up (vLLM)</source>
            <translation>采样器预热（vLLM）</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="153" />
            <source>its profile's peak: every request's logits over the whole vocabulary; fewer max sequences lower it</source>
            <translation>预分析的峰值：每个请求在整个词表上的 logits；减少最大并发序列可降低它</translation>
        </message>
        <message>
            <source>its profile's peak: every request's logits sorted over the vocabulary; fewer max sequences lower it</source>
            <translation type="vanished">预分析的峰值：每个请求的 logits 按整个词表排序；减少最大并发序列可降低它</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="155" />
            <source>Weights, whole model ({format})</source>
            <translation>权重，整个模型（{format}）</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="157" />
            <source>KV cache per token, whole model ({dtype})</source>
            <translation>每 token 的 KV 缓存，整个模型（{dtype}）</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="160" />
            <source>System RAM for offloaded parts</source>
            <translation>卸载部分占用的系统内存</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="164" />
            <source>Least aggressive format that fits</source>
            <translation>装得下的最保守格式</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="168" />
            <location filename="../../gui/serving_panel.py" line="181" />
            <location filename="../../gui/serving_panel.py" line="197" />
            <source>searching…</source>
            <translation>搜索中…</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="171" />
            <location filename="../../gui/serving_panel.py" line="200" />
            <source>none</source>
            <translation>无</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="172" />
            <source>no format this runtime loads fits these cards</source>
            <translation>该推理框架支持的格式在这些卡上都装不下</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="173" />
            <source>weights {size}</source>
            <translation>权重 {size}</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="179" />
            <source>Cheapest single card that fits</source>
            <translation>装得下的最便宜单卡</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="184" />
            <source>none in the catalog</source>
            <translation>目录中没有</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="187" />
            <source>${price}/h</source>
            <translation>${price}/小时</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="195" />
            <source>Fewest expert layers in RAM that fit</source>
            <translation>能装下时专家留在内存的最少层数</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="201" />
            <source>too large even with every layer's experts in RAM</source>
            <translation>即使所有层的专家都留在内存也装不下</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="203" />
            <source>--n-cpu-moe {layers}; system RAM {ram}</source>
            <translation>--n-cpu-moe {layers}；系统内存 {ram}</translation>
        </message>
        <message>
            <location filename="../../gui/serving_panel.py" line="217" />
            <source>Ruled out on these cards</source>
            <translation>在这些卡上不可用</translation>
        </message>
    </context>
    <context>
        <name>StagesPanel</name>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="36" />
            <source>Layers per pipeline stage</source>
            <translation>每个流水线阶段的层数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="39" />
            <source>Even split</source>
            <translation>均分</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="91" />
            <source> layers</source>
            <translation> 层</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="97" />
            <source>Stage {n}:</source>
            <translation>阶段 {n}：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="109" />
            <source>Layers taken from or given to the next stage (the last stage trades with the one before)</source>
            <translation>从下一阶段拿来或让给下一阶段的层数（最后一个阶段与前一阶段调配）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="125" />
            <source>No cards yet: drag a GPU from the palette onto the diagram.</source>
            <translation>还没有卡：从 GPU 面板把 GPU 拖到节点图上。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="127" />
            <source>{layers} layers do not split evenly over {stages} stages: give each stage its layers.</source>
            <translation>{layers} 层无法均分到 {stages} 个阶段：请为每个阶段指定层数。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="136" />
            <source>Split as {split}</source>
            <translation>按 {split} 划分</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="138" />
            <source>%n stage(s); the model has {layers} layers</source>
            <translation>%n 个阶段；模型共 {layers} 层</translation>
        </message>
        <message>
            <source>{stages} stage(s), model has {layers} layers</source>
            <translation type="vanished">{stages} 个阶段，模型共 {layers} 层</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="154" />
            <source>Split layers evenly</source>
            <translation>均分各阶段的层数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="154" />
            <location filename="../../gui/panels/stages_panel.py" line="159" />
            <source>Edit layers per stage</source>
            <translation>编辑每阶段层数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="163" />
            <source>Set layers per stage</source>
            <translation>设置每阶段层数</translation>
        </message>
    </context>
    <context>
        <name>StepTimeline</name>
        <message>
            <location filename="../../gui/step_timeline.py" line="82" />
            <source>No step timeline: the plan is not estimated</source>
            <translation>没有单步时间线：方案尚未估算</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="84" />
            <source>No step timeline for this card: a serving estimate is a steady state</source>
            <translation>这张卡没有单步时间线：推理服务的估算是稳态</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="86" />
            <source>No step timeline: the seed method (the article's rules) sums steady parts; the detailed method walks the step moment by moment</source>
            <translation>没有单步时间线：seed 方法（文章的规则）只累加稳态部分；详细方法才逐个时刻走完一步</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="106" />
            <source>Card {index} (stage {stage}, {gpu}) over one step. {peak}</source>
            <translation>卡 {index}（阶段 {stage}，{gpu}）在一个训练步内的显存。{peak}</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="109" />
            <source>{caption}. Until its first optimizer step the card needs {before}: the run starts and runs out when that step creates the optimizer's state ({state}).</source>
            <translation>{caption}。在第一次优化器更新之前，这张卡需要 {before}：训练能启动，但在这次更新创建优化器状态（{state}）时显存不足。</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="127" />
            <source>memory ({unit})</source>
            <translation>显存（{unit}）</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="135" />
            <source>, </source>
            <translation>，</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="136" />
            <source>{category} {size}</source>
            <translation>{category} {size}</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="138" />
            <source>peak: {moment} — {total} with overhead {overhead} ({parts})</source>
            <translation>峰值：{moment} — {total}，含额外开销 {overhead}（{parts}）</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="150" />
            <source>forward {j}/{k}</source>
            <translation>前向 {j}/{k}</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="152" />
            <source>start</source>
            <translation>开始</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="153" />
            <source>forward</source>
            <translation>前向</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="154" />
            <source>loss</source>
            <translation>损失</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="155" />
            <source>backward</source>
            <translation>反向</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="156" />
            <source>all-reduce</source>
            <translation>all-reduce</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="157" />
            <source>optimizer step</source>
            <translation>优化器步</translation>
        </message>
        <message>
            <location filename="../../gui/step_timeline.py" line="158" />
            <source>next forward</source>
            <translation>下一微批前向</translation>
        </message>
    </context>
    <context>
        <name>SweepView</name>
        <message>
            <location filename="../../gui/sweep_view.py" line="45" />
            <source>sequence length</source>
            <translation>序列长度</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="45" />
            <source>micro-batch size</source>
            <translation>微批次大小</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="45" />
            <source>context length</source>
            <translation>上下文长度</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="46" />
            <source>concurrent sequences</source>
            <translation>并发序列数</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="46" />
            <source>LoRA rank</source>
            <translation>LoRA 秩</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="46" />
            <source>TP size</source>
            <translation>TP 大小</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="47" />
            <source>PP size (stages)</source>
            <translation>PP 大小（阶段数）</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="108" />
            <source>Values evaluated along the range</source>
            <translation>在范围内评估的取值个数</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="110" />
            <source>Reset range</source>
            <translation>重置范围</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="111" />
            <source>From the plan's value ÷ 8 to × 8 (TP, PP: every size the model allows)</source>
            <translation>从方案当前值 ÷ 8 到 × 8（TP、PP：模型允许的所有大小）</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="140" />
            <source>Knob:</source>
            <translation>扫描参数：</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="143" />
            <source>from</source>
            <translation>从</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="143" />
            <source>to</source>
            <translation>到</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="143" />
            <source>points</source>
            <translation>点数</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="324" />
            <source>{knob} (log scale)</source>
            <translation>{knob}（对数刻度）</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="325" />
            <source>heaviest card ({unit})</source>
            <translation>占用最高的卡（{unit}）</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="330" />
            <source>Click a point to apply its value (undoable). Solid line: the smallest card's capacity, {capacity}; dotted: the plan's {current:,}.</source>
            <translation>点击某个点即可应用该取值（可撤销）。实线：最小那张卡的容量 {capacity}；虚线：方案当前值 {current:,}。</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="333" />
            <source>Sizes left out: {sizes}</source>
            <translation>略去的大小：{sizes}</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="341" />
            <source>No {knob} from {start:,} to {stop:,} fits</source>
            <translation>{knob}从 {start:,} 到 {stop:,} 都装不下</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="343" />
            <source>Largest {knob} that fits: {value:,}</source>
            <translation>装得下的最大{knob}：{value:,}</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="344" />
            <source>Smallest {knob} that fits: {value:,}</source>
            <translation>装得下的最小{knob}：{value:,}</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="345" />
            <source>peak {peak} on stage {stage}, {headroom} left on card #{card} (stage {binding})</source>
            <translation>阶段 {stage} 峰值 {peak}，卡 #{card}（阶段 {binding}）剩余 {headroom}</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="352" />
            <source>{knob} {value:,}: {peak:.2f} {unit} — click to apply</source>
            <translation>{knob} {value:,}：{peak:.2f} {unit} — 点击应用</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="362" />
            <source>Cannot sweep: {error}</source>
            <translation>无法扫描：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/sweep_view.py" line="382" />
            <source>Set {knob} to {value:,} (sweep)</source>
            <translation>将{knob}设为 {value:,}（扫描）</translation>
        </message>
    </context>
    <context>
        <name>TpOutlineItem</name>
        <message>
            <location filename="../../gui/diagram/group_outline.py" line="59" />
            <source>TP {0} ×{1}</source>
            <translation>TP {0} ×{1}</translation>
        </message>
    </context>
    <context>
        <name>WorkloadPanel</name>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="152" />
            <location filename="../../gui/panels/workload_panel.py" line="162" />
            <source>Serving</source>
            <translation>推理服务</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="152" />
            <location filename="../../gui/panels/workload_panel.py" line="163" />
            <source>Fine-tuning</source>
            <translation>微调</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="160" />
            <source>Mode</source>
            <translation>模式</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="162" />
            <source>Training</source>
            <translation>训练</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="161" />
            <source>Workload:</source>
            <translation>工作负载：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="80" />
            <source>Only for llama.cpp: the other runtimes keep the window itself.</source>
            <translation>仅对 llama.cpp 有效：其他推理框架本身就只保留窗口。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="83" />
            <source>The model has no sliding window (Model ▸ Architecture).</source>
            <translation>该模型没有滑动窗口（模型 ▸ 模型结构）。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="85" />
            <source>llama.cpp keeps a window only when some, not all, layers use one; this model keeps the whole context on every layer.</source>
            <translation>llama.cpp 只在部分（而非全部）层使用窗口时才只保留窗口；该模型在每一层都保留整个上下文。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="93" />
            <source>Only with full recompute: it acts on the layer checkpoints that full recompute keeps.</source>
            <translation>仅在完全重计算时有效：它作用于完全重计算保留的层检查点。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="95" />
            <source>Only with partitioned checkpoints: DeepSpeed moves the partitions to CPU memory.</source>
            <translation>仅在检查点分片时有效：DeepSpeed 把分片移到 CPU 内存。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="108" />
            <source>Only for the detailed method with DeepSpeed in fp16 without ZeRO or a distributed optimizer: sharded optimizers and bf16 keep their fp32 gradients another way.</source>
            <translation>仅适用于 detailed 方法下既不用 ZeRO 也不用分布式优化器的 DeepSpeed fp16 训练：分片的优化器和 bf16 以其他方式保存 fp32 梯度。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="118" />
            <source>Only for Hugging Face transformers: fine-tuning with PEFT, or training with the detailed method and the Hugging Face framework.</source>
            <translation>仅适用于 Hugging Face transformers：使用 PEFT 的微调，或使用 detailed 方法和 Hugging Face 框架的训练。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="166" />
            <source>Training workload</source>
            <translation>训练负载</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="167" />
            <source>Sequence length:</source>
            <translation>序列长度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="167" />
            <source> tokens</source>
            <translation> token</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="168" />
            <source>Micro-batch:</source>
            <translation>微批次：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="169" />
            <source>Global batch:</source>
            <translation>全局批次：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="169" />
            <source>auto (fill the pipeline)</source>
            <translation>自动（填满流水线）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="170" />
            <source>Samples per optimizer step; auto runs one micro-batch per pipeline stage</source>
            <translation>每个优化器步的样本数；自动时每个流水线阶段跑一个微批次</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="171" />
            <source>Precision:</source>
            <translation>精度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="172" />
            <source>Optimizer:</source>
            <translation>优化器：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="173" />
            <source>Recompute:</source>
            <translation>重计算：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="174" />
            <source>none</source>
            <translation>无</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="174" />
            <source>selective</source>
            <translation>选择性</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="174" />
            <source>full</source>
            <translation>完全</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="175" />
            <source>Partition activations (DeepSpeed)</source>
            <translation>激活分片（DeepSpeed）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="176" />
            <source>DeepSpeed partition_activations: each tensor-parallel rank keeps 1/TP of every layer checkpoint, all-gathered when the layer is recomputed</source>
            <translation>DeepSpeed partition_activations：每个张量并行 rank 只保留每层检查点的 1/TP，重计算该层时再 all-gather</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="178" />
            <source>CPU checkpointing (DeepSpeed)</source>
            <translation>检查点放在 CPU（DeepSpeed）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="179" />
            <source>DeepSpeed cpu_checkpointing: the partitioned checkpoints live in CPU memory, none on the GPU</source>
            <translation>DeepSpeed cpu_checkpointing：分片后的检查点放在 CPU 内存中，GPU 上不保留</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="181" />
            <source>Flash attention</source>
            <translation>Flash Attention</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="182" />
            <source>Sequence parallel (with TP)</source>
            <translation>序列并行（配合 TP）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="185" />
            <source>Sharding and offload</source>
            <translation>切分与卸载</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="186" />
            <source>ZeRO stage:</source>
            <translation>ZeRO 阶段：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="187" />
            <source>0 (none)</source>
            <translation>0（不切分）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="187" />
            <source>1 (optimizer states)</source>
            <translation>1（优化器状态）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="187" />
            <source>2 (+ gradients)</source>
            <translation>2（+ 梯度）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="188" />
            <source>3 (+ weights)</source>
            <translation>3（+ 权重）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="189" />
            <source>Distributed optimizer (Megatron)</source>
            <translation>分布式优化器（Megatron）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="190" />
            <source>Offload optimizer states to CPU</source>
            <translation>优化器状态卸载到 CPU</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="191" />
            <source>Offload parameters to CPU (ZeRO-3)</source>
            <translation>参数卸载到 CPU（ZeRO-3）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="192" />
            <source>FSDP (PyTorch, ZeRO-3)</source>
            <translation>FSDP（PyTorch，ZeRO-3）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="193" />
            <source>ZeRO-3 as PyTorch FSDP FULL_SHARD runs it under the Hugging Face Trainer: decoder layers gathered whole while they compute, the embeddings and output layer whole from the forward to the end of the backward, nothing gathered at the optimizer step</source>
            <translation>按 Hugging Face Trainer 下 PyTorch FSDP FULL_SHARD 的方式运行 ZeRO-3：解码层在计算时聚合为完整参数，嵌入层和输出层从前向到反向结束保持完整，优化器步骤时不聚合任何参数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="199" />
            <source>MoE expert load</source>
            <translation>MoE 专家负载</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="203" />
            <source>Memory method</source>
            <translation>显存估算方法</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="204" />
            <source>Method:</source>
            <translation>方法：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="205" />
            <source>seed (the article's rules)</source>
            <translation>seed（文章的规则）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="205" />
            <source>detailed</source>
            <translation>详细</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="206" />
            <source>seed: 18 B/param and 40·S·H·L activations, no overheads; detailed: framework-accurate</source>
            <translation>seed：每参数 18 字节，激活 40·S·H·L，不计额外开销；详细：按框架精确计算</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="207" />
            <source>Framework:</source>
            <translation>框架：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="209" />
            <source>Megatron-LM 2021 (local DDP)</source>
            <translation>Megatron-LM 2021（local DDP）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="211" />
            <source>Hugging Face (transformers eager)</source>
            <translation>Hugging Face（transformers eager）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="212" />
            <source>DeepSpeed fp16 step:</source>
            <translation>DeepSpeed fp16 优化步：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="213" />
            <source>fused (FusedAdam)</source>
            <translation>fused（FusedAdam）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="214" />
            <source>unfused (other optimizers)</source>
            <translation>unfused（其他优化器）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="215" />
            <source>DeepSpeed in fp16 without ZeRO converts every gradient to fp32 for the step. Its log says which wrapper runs: 'Creating fp16 optimizer' (fused: fp32 copies flattened into one buffer, 8 B per parameter) or 'Creating fp16 unfused optimizer' (an fp32 gradient per parameter, 4 B).</source>
            <translation>不用 ZeRO 的 DeepSpeed fp16 训练在优化步把每个梯度转换为 fp32。其日志说明用的是哪种封装：'Creating fp16 optimizer'（fused：fp32 副本展平到一个缓冲区，每个参数 8 B）或 'Creating fp16 unfused optimizer'（每个参数一个 fp32 梯度，4 B）。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="221" />
            <source>Allocator reserve</source>
            <translation>分配器预留</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="222" />
            <source>Reserve from:</source>
            <translation>预留来源：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="223" />
            <source>auto</source>
            <translation>自动</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="226" />
            <source>PyTorch's caching allocator keeps freed blocks reserved. Replay runs its rules over the card's allocations, step by step, and takes what it reserves above what it allocates: Megatron-LM 2021 training (within 4 % of BigScience's reserved memory but for one-layer stages) and fine-tuning under the Hugging Face Trainer on one card (nvidia-smi of fms-acceleration's runs: within -7 to +9 %, where a flat 5 % is 5-25 % low) or on the cards FSDP shards over (2.5-6.5 % low, where 5 % is 15-31 % low). Auto, the default, replays fine-tuning under the Trainer and takes the percentage below everywhere else.</source>
            <translation>PyTorch 的缓存分配器会保留已释放的内存块。回放会按步骤在该卡的分配上运行其规则，并取其保留量超出分配量的部分：Megatron-LM 2021 训练（除单层阶段外，与 BigScience 的保留内存相差 4% 以内）以及 Hugging Face Trainer 的微调：单卡（fms-acceleration 运行的 nvidia-smi：在 -7% 到 +9% 之内，而固定 5% 偏低 5-25%）或 FSDP 分片的多卡（偏低 2.5-6.5%，而固定 5% 偏低 15-31%）。默认的“自动”对 Trainer 微调使用回放，其他情况使用下方的百分比。</translation>
        </message>
        <message>
            <source>auto (replay where it applies)</source>
            <translation type="vanished">自动（适用时回放）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="224" />
            <source>percentage</source>
            <translation>百分比</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="225" />
            <source>allocator replay</source>
            <translation>分配器重放</translation>
        </message>
        <message>
            <source>PyTorch's caching allocator keeps freed blocks reserved. Replay runs its rules over the card's allocations, step by step, and takes what it reserves above what it allocates: Megatron-LM 2021 training (within 4 % of BigScience's reserved memory but for one-layer stages) and fine-tuning under the Hugging Face Trainer on one card (nvidia-smi of fms-acceleration's runs: within -7 to +9 %, where a flat 5 % is 5-25 % low). Auto, the default, replays fine-tuning on one card and takes the percentage below everywhere else.</source>
            <translation type="vanished">PyTorch 的缓存分配器会保留已释放的内存块。回放会按步骤在该卡的分配上运行其规则，并取其保留量超出分配量的部分：Megatron-LM 2021 训练（除单层阶段外，与 BigScience 的保留内存相差 4% 以内）以及单卡上 Hugging Face Trainer 的微调（fms-acceleration 运行的 nvidia-smi：在 -7% 到 +9% 之内，而固定 5% 偏低 5-25%）。默认的“自动”对单卡微调使用回放，其他情况使用下方的百分比。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="242" />
            <source>4.45 or earlier</source>
            <translation>4.45 或更早</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="243" />
            <source>From 4.46 to 4.48 ForCausalLMLoss copies the shifted fp32 logits, one more vocabulary-sized buffer at the loss (14 B per token and vocabulary entry in bf16, against 12 B for the cross-entropy's backward since 4.49). Before 4.46 the model's forward computes the loss itself: fp32 logits, their shifted copy and the log-softmax, 12 B.</source>
            <translation>4.46 到 4.48 版本中 ForCausalLMLoss 会复制移位后的 fp32 logits，在计算损失时多出一个词表大小的缓冲区（bf16 下每个 token 每个词表项 14 B，而自 4.49 起交叉熵反向为 12 B）。4.46 之前由模型前向自己计算损失：fp32 logits、其移位副本和 log-softmax，共 12 B。</translation>
        </message>
        <message>
            <source>PyTorch's caching allocator keeps freed blocks reserved. Replay runs its rules over the card's allocations, step by step, and takes what it reserves above what it allocates: Megatron-LM 2021 training (within 4 % of BigScience's reserved memory but for one-layer stages) and fine-tuning under the Hugging Face Trainer on one card (nvidia-smi of fms-acceleration's runs: QLoRA within 1.3 %, LoRA 5-6 % low; full fine-tuning is nearer with the percentage). Otherwise the reserve is the percentage below.</source>
            <translation type="vanished">PyTorch 的缓存分配器会把释放的块留作预留。重放会按卡上的分配逐步运行其规则，取其预留超出分配的部分：Megatron-LM 2021 训练（与 BigScience 的预留显存相差 4 % 以内，单层阶段除外）以及单卡上 Hugging Face Trainer 的微调（fms-acceleration 运行的 nvidia-smi：QLoRA 相差 1.3 % 以内，LoRA 偏低 5-6 %；全参数微调用百分比更接近）。否则预留取下面的百分比。</translation>
        </message>
        <message>
            <source>PyTorch's caching allocator keeps freed blocks reserved. Replay runs its rules over the card's allocations, step by step, and takes what it reserves above what it allocates: Megatron-LM 2021 training (within 4 % of BigScience's reserved memory but for one-layer stages) and LoRA or QLoRA under PEFT on one card (nvidia-smi of fms-acceleration's runs: QLoRA within 1.3 %, LoRA 5-6 % low). Otherwise the reserve is the percentage below.</source>
            <translation type="vanished">PyTorch 的缓存分配器会把释放的块留作预留。重放会按卡上的分配逐步运行其规则，取其预留超出分配的部分：Megatron-LM 2021 训练（与 BigScience 的预留显存相差 4 % 以内，单层阶段除外）以及单卡上 PEFT 的 LoRA 或 QLoRA（fms-acceleration 运行的 nvidia-smi：QLoRA 相差 1.3 % 以内，LoRA 偏低 5-6 %）。否则预留取下面的百分比。</translation>
        </message>
        <message>
            <source>PyTorch's caching allocator keeps freed blocks reserved. Replay runs its rules over the card's allocations, iteration by iteration, and takes what it reserves above what it allocates (Megatron-LM 2021 plans: within 4 % of the reserved memory of BigScience's runs but for their one-layer stages). Otherwise the reserve is the percentage below.</source>
            <translation type="vanished">PyTorch 的缓存分配器会把释放的块继续保留。重放会按迭代逐次用它的规则处理该卡的分配请求，取其保留量高于分配量的部分（Megatron-LM 2021 计划：除单层阶段外，与 BigScience 各次运行的保留显存相差不超过 4 %）。否则预留量为下方的百分比。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="234" />
            <source>Allocator reserve:</source>
            <translation>分配器预留：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="238" />
            <source>Hugging Face stack</source>
            <translation>Hugging Face 软件栈</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="239" />
            <source>transformers:</source>
            <translation>transformers：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="240" />
            <source>4.49 or later</source>
            <translation>4.49 及以后</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="241" />
            <source>4.46 to 4.48</source>
            <translation>4.46 至 4.48</translation>
        </message>
        <message>
            <source>From 4.46 to 4.48 ForCausalLMLoss copies the shifted fp32 logits, one more vocabulary-sized buffer at the loss (14 B per token and vocabulary entry in bf16, against 12 B for the cross-entropy's backward since 4.49).</source>
            <translation type="vanished">从 4.46 到 4.48，ForCausalLMLoss 会复制移位后的 fp32 logits，损失处多一个词表大小的缓冲区（bf16 下每个 token 每个词表项 14 B；自 4.49 起为交叉熵反向的 12 B）。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="310" />
            <source>{format} (not on these cards)</source>
            <translation>{format}（这些卡不支持）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="51" />
            <source>Busiest EP rank:</source>
            <translation>最忙的 EP rank：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="52" />
            <source>balanced</source>
            <translation>均衡</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="53" />
            <source>capacity factor</source>
            <translation>容量因子</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="54" />
            <source>measured ratio</source>
            <translation>实测比例</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="55" />
            <source>drop-less worst case</source>
            <translation>不丢 token 的最坏情况</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="56" />
            <source>Routed tokens the busiest expert-parallel rank receives in a MoE layer; every card is sized as that rank. Balanced: the average; capacity factor: tokens beyond it are dropped; measured: the busiest rank's tokens / the mean; drop-less worst case: every token of the group may pick this rank's experts</source>
            <translation>MoE 层中最忙的专家并行 rank 收到的路由 token 数；每张卡都按该 rank 估算。均衡：取平均值；容量因子：超出部分的 token 被丢弃；实测：最忙 rank 的 token 数 / 平均值；不丢 token 的最坏情况：组内每个 token 都可能选中该 rank 的专家</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="60" />
            <source>Factor:</source>
            <translation>因子：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="61" />
            <source>Capacity factor: Megatron's --moe-expert-capacity-factor; measured: the busiest rank's tokens / the mean (at least 1)</source>
            <translation>容量因子：即 Megatron 的 --moe-expert-capacity-factor；实测：最忙 rank 的 token 数 / 平均值（至少为 1）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="67" />
            <source>Compare with the average rank</source>
            <translation>与平均 rank 对比</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="69" />
            <source>Open the comparison of the busiest and the average expert-parallel rank</source>
            <translation>打开最忙与平均专家并行 rank 的对比</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="91" />
            <source>EP 1: each card holds every expert, so the load changes nothing.</source>
            <translation>EP 1：每张卡都持有全部专家，负载分布不影响显存。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/expert_load.py" line="93" />
            <source>Every card is sized as the busiest of {ep} expert-parallel ranks.</source>
            <translation>每张卡都按 {ep} 个专家并行 rank 中最忙的那个估算。</translation>
        </message>
    </context>
    <context>
        <name>chart</name>
        <message>
            <location filename="../../gui/chart.py" line="61" />
            <source>weights</source>
            <translation>权重</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="62" />
            <source>gradients</source>
            <translation>梯度</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="63" />
            <source>optimizer states</source>
            <translation>优化器状态</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="64" />
            <source>activations</source>
            <translation>激活</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="65" />
            <source>logits</source>
            <translation>logits</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="66" />
            <source>communication</source>
            <translation>通信</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="67" />
            <source>transient buffers</source>
            <translation>临时缓冲区</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="68" />
            <source>KV cache</source>
            <translation>KV 缓存</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="69" />
            <source>overhead</source>
            <translation>额外开销</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="96" />
            <source>card</source>
            <translation>卡</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="150" />
            <source>memory ({unit})</source>
            <translation>显存（{unit}）</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="184" />
            <source>not computed</source>
            <translation>未计算</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="185" />
            <source>no cards yet</source>
            <translation>还没有卡</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="232" />
            <source>Not computed:</source>
            <translation>未计算：</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="233" />
            <source>the plan has an error (see the message above the diagram).</source>
            <translation>方案有错误（见节点图上方的提示）。</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="236" />
            <source>No cards yet: drag a GPU from the palette onto the diagram.</source>
            <translation>还没有卡：从 GPU 面板把 GPU 拖到节点图上。</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="250" />
            <source>%n card(s)</source>
            <translation>%n 张卡</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="257" />
            <source>Card #{index} · {gpu} · stage {stage} · TP rank {tp_rank}/{tp} · DP rank {dp_rank}/{dp}</source>
            <translation>卡 #{index} · {gpu} · 阶段 {stage} · TP rank {tp_rank}/{tp} · DP rank {dp_rank}/{dp}</translation>
        </message>
        <message>
            <source>Cannot estimate:</source>
            <translation type="vanished">无法估算：</translation>
        </message>
        <message>
            <source>No cards in the plan</source>
            <translation type="vanished">方案中没有卡</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="239" />
            <source>✔ Fits</source>
            <translation>✔ 装得下</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="240" />
            <source>✘ Does not fit</source>
            <translation>✘ 装不下</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="243" />
            <source>{amount} headroom</source>
            <translation>余量 {amount}</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="244" />
            <source>over by {amount}</source>
            <translation>超出 {amount}</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="245" />
            <source>worst: card #{index} (stage {stage}, {gpu}) {total} of {capacity}, {headroom}</source>
            <translation>最满：卡 #{index}（阶段 {stage}，{gpu}）{total} / {capacity}，{headroom}</translation>
        </message>
        <message>
            <source>1 card</source>
            <translation type="vanished">1 张卡</translation>
        </message>
        <message>
            <source>{count} cards</source>
            <translation type="vanished">{count} 张卡</translation>
        </message>
        <message>
            <source>Card #{index} · {gpu} · stage {stage} · TP {tp_rank}/{tp} · DP {dp_rank}/{dp}</source>
            <translation type="vanished">卡 #{index} · {gpu} · 阶段 {stage} · TP {tp_rank}/{tp} · DP {dp_rank}/{dp}</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="264" />
            <source>total {total} of {capacity}</source>
            <translation>合计 {total} / {capacity}</translation>
        </message>
    </context>
    <context>
        <name>panels</name>
        <message>
            <location filename="../../gui/panels/form.py" line="152" />
            <source>From {low} to {high}.</source>
            <translation>范围：{low} 到 {high}。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/form.py" line="270" />
            <source>Set {field}</source>
            <translation>设置{field}</translation>
        </message>
        <message>
            <location filename="../../gui/panels/form.py" line="346" />
            <source>Not accepted: expected {allowed}.</source>
            <translation>未接受：应为 {allowed}。</translation>
        </message>
        <message>
            <source>at most {limit}</source>
            <translation type="vanished">不超过 {limit}</translation>
        </message>
        <message>
            <source>at least {limit}</source>
            <translation type="vanished">不小于 {limit}</translation>
        </message>
        <message>
            <source>{typed} is out of range: this field takes {kind}; set to {limit}.</source>
            <translation type="vanished">{typed} 超出范围：此项取值{kind}；已设为 {limit}。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/limit_spin.py" line="55" />
            <source>{field}: {typed} is out of range (allowed: {low} to {high}); set to {limit}.</source>
            <translation>{field}：{typed} 超出范围（允许 {low} 到 {high}）；已设为 {limit}。</translation>
        </message>
        <message>
            <location filename="../../gui/panels/limit_spin.py" line="57" />
            <source>Value</source>
            <translation>数值</translation>
        </message>
    </context>
    <context>
        <name>section_form</name>
        <message>
            <location filename="../../gui/panels/section_form.py" line="48" />
            <source>Weight format:</source>
            <translation>权重格式：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="49" />
            <source>KV cache type:</source>
            <translation>KV 缓存类型：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="50" />
            <source>Context (tokens):</source>
            <translation>上下文长度（token）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="51" />
            <source>Concurrent sequences:</source>
            <translation>并发序列数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="52" />
            <source>Runtime:</source>
            <translation>推理框架：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="53" />
            <source>GPU layers (llama.cpp):</source>
            <translation>GPU 层数（llama.cpp）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="54" />
            <source>CPU MoE (llama.cpp):</source>
            <translation>CPU 专家层 (llama.cpp):</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="55" />
            <source>Output layer first (llama.cpp)</source>
            <translation>先卸载输出层 (llama.cpp)</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="56" />
            <source>GPU memory share (vLLM):</source>
            <translation>显存占用比例（vLLM）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="57" />
            <source>KV free fraction (TRT-LLM):</source>
            <translation>KV 空闲显存比例（TRT-LLM）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="58" />
            <source>Max model length:</source>
            <translation>最大模型长度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="59" />
            <source>KV block (tokens):</source>
            <translation>KV 块大小（token）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="60" />
            <source>Prefill chunk (tokens):</source>
            <translation>Prefill 分块（token）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="61" />
            <source>Method:</source>
            <translation>方法：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="62" />
            <source>LoRA rank:</source>
            <translation>LoRA 秩：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="63" />
            <source>LoRA alpha:</source>
            <translation>LoRA alpha：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="64" />
            <source>Adapted matrices:</source>
            <translation>适配的矩阵：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="65" />
            <source>Sequence length:</source>
            <translation>序列长度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="66" />
            <source>Micro-batch:</source>
            <translation>微批次：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="67" />
            <source>Gradient accumulation:</source>
            <translation>梯度累积：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="68" />
            <source>Base weights:</source>
            <translation>基座权重：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="69" />
            <source>Adapter weights:</source>
            <translation>适配器权重：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="70" />
            <source>QLoRA format:</source>
            <translation>QLoRA 格式：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="71" />
            <source>Group size:</source>
            <translation>分组大小：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="72" />
            <location filename="../../gui/panels/section_form.py" line="88" />
            <source>Double quant</source>
            <translation>双重量化</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="73" />
            <source>vLLM engine:</source>
            <translation>vLLM 引擎：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="74" />
            <source>vLLM release:</source>
            <translation>vLLM 版本：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="75" />
            <source>No CUDA graphs (--enforce-eager)</source>
            <translation>不使用 CUDA 图（--enforce-eager）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="76" />
            <source>vLLM started by:</source>
            <translation>vLLM 启动方式：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="77" />
            <source>Max sequences (vLLM):</source>
            <translation>最大并发序列（vLLM）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="78" />
            <location filename="../../gui/panels/section_form.py" line="82" />
            <source>Flash attention</source>
            <translation>Flash Attention</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="79" />
            <source>Full SWA cache (--swa-full)</source>
            <translation>完整 SWA 缓存（--swa-full）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="80" />
            <source>Logits:</source>
            <translation>Logits：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="81" />
            <source>Gradient checkpointing</source>
            <translation>梯度检查点</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="83" />
            <source>Optimizer:</source>
            <translation>优化器：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="84" />
            <source>LoRA dropout:</source>
            <translation>LoRA dropout：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="85" />
            <source>Framework:</source>
            <translation>框架：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="86" />
            <source>Mixed precision (fp32 master weights)</source>
            <translation>混合精度（fp32 主权重）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="87" />
            <source>FSDP: shard over the cards</source>
            <translation>FSDP：在各卡间分片</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="89" />
            <source>bitsandbytes:</source>
            <translation>bitsandbytes 版本：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="105" />
            <source>last</source>
            <comment>logits of the last token per sequence</comment>
            <translation>最后一个 token</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="106" />
            <source>all</source>
            <comment>logits of every prompt token</comment>
            <translation>全部 prompt token</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="107" />
            <source>full</source>
            <comment>full fine-tuning (not LoRA)</comment>
            <translation>全参数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="108" />
            <source>newest</source>
            <comment>the newest vLLM release</comment>
            <translation>最新</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="109" />
            <source>0.43.2 or later</source>
            <comment>a current bitsandbytes release</comment>
            <translation>0.43.2 或更新</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="111" />
            <source>vllm serve</source>
            <comment>vLLM's OpenAI-compatible server</comment>
            <translation>vllm serve</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="112" />
            <source>LLM class</source>
            <comment>vLLM's Python LLM class</comment>
            <translation>LLM 类</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="146" />
            <location filename="../../gui/panels/workload_panel.py" line="61" />
            <source>auto</source>
            <translation>自动</translation>
        </message>
        <message>
            <source>none (experts on the card)</source>
            <translation type="vanished">无（专家都在卡上）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="63" />
            <source>none</source>
            <translation>无</translation>
        </message>
    </context>
    <context>
        <name>templates</name>
        <message>
            <location filename="../../gui/templates.py" line="24" />
            <source>13B: PP4 × ZeRO-1 DP2 on 8 × 80 GB (article, seed)</source>
            <translation>13B：8 × 80 GB 上 PP4 × ZeRO-1 DP2（文章，seed）</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="25" />
            <source>13B: PP8 on 8 × 80 GB (article, seed)</source>
            <translation>13B：8 × 80 GB 上 PP8（文章，seed）</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="26" />
            <source>13B: ZeRO-1 DP8 only (article: does not fit)</source>
            <translation>13B：仅 ZeRO-1 DP8（文章：装不下）</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="27" />
            <source>13B: PP4 × ZeRO-1 DP2, detailed method (Megatron)</source>
            <translation>13B：PP4 × ZeRO-1 DP2，详细方法（Megatron）</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="28" />
            <source>70B: TP8 × PP5 × DP2 on 80 × 80 GB</source>
            <translation>70B：80 × 80 GB 上 TP8 × PP5 × DP2</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="29" />
            <source>6B: serving on one RTX 4090, bf16</source>
            <translation>6B：单张 RTX 4090 推理，bf16</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="30" />
            <source>6B: serving on one RTX 4090, int4</source>
            <translation>6B：单张 RTX 4090 推理，int4</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="31" />
            <source>6B: serving on one RTX 3060 12GB, int4</source>
            <translation>6B：单张 RTX 3060 12GB 推理，int4</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="32" />
            <source>13B: serving on one A10, int4</source>
            <translation>13B：单张 A10 推理，int4</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="33" />
            <source>70B: serving on 4 × H100 with vLLM</source>
            <translation>70B：4 × H100 上用 vLLM 推理</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="34" />
            <source>7B: QLoRA fine-tuning on one RTX 4090</source>
            <translation>7B：单张 RTX 4090 上 QLoRA 微调</translation>
        </message>
    </context>
    <context>
        <name>warnings</name>
        <message>
            <location filename="../../gui/warnings_panel.py" line="25" />
            <location filename="../../gui/warnings_panel.py" line="55" />
            <source>Over capacity</source>
            <translation>超出显存容量</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="26" />
            <source>Runs out at the first optimizer step</source>
            <translation>第一次优化器更新时显存不足</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="27" />
            <source>Attention scores without FlashAttention</source>
            <translation>未使用 FlashAttention 时的注意力分数</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="28" />
            <source>Stages are unbalanced</source>
            <translation>各阶段负载不均衡</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="29" />
            <source>The seed method leaves out overheads</source>
            <translation>seed 方法不计额外开销</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="30" />
            <source>A TP group spans nodes</source>
            <translation>TP 组跨节点</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="31" />
            <source>TP group larger than 8</source>
            <translation>TP 组大于 8</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="32" />
            <source>TP groups of unequal sizes</source>
            <translation>TP 组大小不一</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="33" />
            <source>DP groups of unequal sizes</source>
            <translation>DP 组大小不一</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="34" />
            <source>Mixed GPU types</source>
            <translation>混用不同型号的 GPU</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="35" />
            <source>Parameters the layers do not explain</source>
            <translation>参数量与层结构对不上</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="36" />
            <source>Context beyond what the model was trained for</source>
            <translation>上下文超出模型训练长度</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="37" />
            <source>Weight format these cards cannot run</source>
            <translation>这些卡无法运行该权重格式</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="38" />
            <source>Weight format runs differently on these cards</source>
            <translation>该权重格式在这些卡上以不同方式运行</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="39" />
            <source>GGUF format outside llama.cpp</source>
            <translation>在 llama.cpp 之外使用 GGUF 格式</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="40" />
            <source>Parts kept in system RAM</source>
            <translation>部分数据放在系统内存中</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="41" />
            <source>Paged optimizer</source>
            <translation>分页优化器</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="42" />
            <source>DeepSpeed bf16 without ZeRO</source>
            <translation>不用 ZeRO 的 DeepSpeed bf16</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="43" />
            <source>Peaks before its gradients exist</source>
            <translation>峰值出现在梯度生成之前</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="44" />
            <source>vLLM's margin cannot hold the CUDA context and graphs</source>
            <translation>vLLM 预留余量放不下 CUDA 上下文和 CUDA 图</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="45" />
            <source>vLLM runs fewer sequences at once than planned</source>
            <translation>vLLM 同时运行的序列数少于计划</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="46" />
            <source>vLLM refuses these batch settings</source>
            <translation>vLLM 拒绝这些批处理设置</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="84" />
            <source>Not computed while the plan has an error (see the message above the diagram).</source>
            <translation>方案有错误，暂不计算（见节点图上方的提示）。</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="91" />
            <source>No warnings</source>
            <translation>没有警告</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="104" />
            <source>Click to highlight the %n card(s) concerned</source>
            <translation>点击高亮相关的 %n 张卡</translation>
        </message>
        <message>
            <source>Click to highlight the {count} card(s) concerned</source>
            <translation type="vanished">点击高亮相关的 {count} 张卡</translation>
        </message>
    </context>
</TS>
