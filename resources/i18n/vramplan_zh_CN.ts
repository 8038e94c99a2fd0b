<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
    <context>
        <name>App</name>
        <message>
            <location filename="../../gui/app.py" line="123" />
            <source>Restore autosaved plan</source>
            <translation>恢复自动保存的方案</translation>
        </message>
        <message>
            <location filename="../../gui/app.py" line="133" />
            <source>untitled</source>
            <translation>未命名</translation>
        </message>
        <message>
            <location filename="../../gui/app.py" line="134" />
            <source>vramplan did not exit cleanly last time. Restore the autosaved plan “{name}” from {time}?</source>
            <translation>vramplan 上次没有正常退出。要恢复 {time} 自动保存的方案“{name}”吗？</translation>
        </message>
        <message>
            <location filename="../../gui/app.py" line="136" />
            <source>Restore</source>
            <translation>恢复</translation>
        </message>
        <message>
            <location filename="../../gui/app.py" line="136" />
            <source>Discard</source>
            <translation>丢弃</translation>
        </message>
    </context>
    <context>
        <name>CardItem</name>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="111" />
            <source>S{0}</source>
            <translation>S{0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/bar_item.py" line="82" />
            <source>of {0}</source>
            <translation>/ {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="113" />
            <source>DP {0}</source>
            <translation>DP {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="209" />
            <source>&lt;b&gt;{0}&lt;/b&gt; · stage {1} · TP group {2} · DP group {3}</source>
            <translation>&lt;b&gt;{0}&lt;/b&gt; · 阶段 {1} · TP 组 {2} · DP 组 {3}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="213" />
            <source>no estimate for this card yet</source>
            <translation>这张卡还没有估算结果</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="219" />
            <source>fits, {0} free</source>
            <translation>装得下，剩余 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="220" />
            <source>&lt;b&gt;over capacity by {0}&lt;/b&gt;</source>
            <translation>&lt;b&gt;超出容量 {0}&lt;/b&gt;</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="221" />
            <source>total {0} of {1}: {2}</source>
            <translation>合计 {0} / {1}：{2}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/card_item.py" line="223" />
            <source>card</source>
            <translation>卡</translation>
        </message>
    </context>
    <context>
        <name>Diagram</name>
        <message>
            <location filename="../../gui/diagram/colors.py" line="72" />
            <source>weights</source>
            <translation>权重</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="73" />
            <source>gradients</source>
            <translation>梯度</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="74" />
            <source>optimizer states</source>
            <translation>优化器状态</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="75" />
            <source>activations</source>
            <translation>激活</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="76" />
            <source>logits</source>
            <translation>logits</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/colors.py" line="77" />
            <source>communication</source>
            <translation>通信</translation>
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
            <location filename="../../gui/diagram/controller.py" line="50" />
            <location filename="../../gui/diagram/controller.py" line="69" />
            <source>Not done: {0}</source>
            <translation>未执行：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/controller.py" line="117" />
            <source>Rename node</source>
            <translation>重命名节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/controller.py" line="74" />
            <source>Add {0}</source>
            <translation>添加 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/controller.py" line="79" />
            <source>Add node with {0}</source>
            <translation>添加带 {0} 的节点</translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/controller.py" line="101" />
            <source>Move %n card(s)</source>
            <translation>
                <numerusform>移动 %n 张卡</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/controller.py" line="106" />
            <source>Move %n card(s) to a new node</source>
            <translation>
                <numerusform>将 %n 张卡移到新节点</numerusform>
            </translation>
        </message>
        <message>
            <location filename="../../gui/diagram/controller.py" line="114" />
            <source>Move node</source>
            <translation>移动节点</translation>
        </message>
    </context>
    <context>
        <name>DiagramScene</name>
        <message>
            <location filename="../../gui/diagram/interaction.py" line="160" />
            <source>{0} card(s)</source>
            <translation>{0} 张卡</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/scene.py" line="157" />
            <source>Cannot estimate: {0}</source>
            <translation>无法估算：{0}</translation>
        </message>
    </context>
    <context>
        <name>DiagramView</name>
        <message>
            <location filename="../../gui/diagram/view.py" line="49" />
            <source>Node diagram</source>
            <translation>节点图</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="169" />
            <source>Stage</source>
            <translation>阶段</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/view.py" line="169" />
            <source>Memory</source>
            <translation>显存</translation>
        </message>
    </context>
    <context>
        <name>FileActions</name>
        <message>
            <location filename="../../gui/file_actions.py" line="26" />
            <source>vramplan plan (*.json);;All files (*)</source>
            <translation>vramplan 方案 (*.json);;所有文件 (*)</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="37" />
            <source>&amp;New</source>
            <translation>新建(&amp;N)</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="38" />
            <source>&amp;Open…</source>
            <translation>打开(&amp;O)…</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="39" />
            <source>&amp;Save</source>
            <translation>保存(&amp;S)</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="40" />
            <source>Save &amp;As…</source>
            <translation>另存为(&amp;A)…</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="42" />
            <source>Open &amp;Recent</source>
            <translation>最近打开(&amp;R)</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="57" />
            <source>Could not open {file}: {error}</source>
            <translation>无法打开 {file}：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="62" />
            <source>Opened {file}</source>
            <translation>已打开 {file}</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="69" />
            <source>Could not save {file}: {error}</source>
            <translation>无法保存 {file}：{error}</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="74" />
            <source>Saved {file}</source>
            <translation>已保存 {file}</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="100" />
            <source>Open plan</source>
            <translation>打开方案</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="111" />
            <source>Save plan as</source>
            <translation>方案另存为</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="123" />
            <source>Unsaved changes</source>
            <translation>未保存的更改</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="124" />
            <source>The plan “{name}” has unsaved changes. Save them first?</source>
            <translation>方案“{name}”有未保存的更改。要先保存吗？</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="142" />
            <source>(none)</source>
            <translation>（无）</translation>
        </message>
        <message>
            <location filename="../../gui/file_actions.py" line="145" />
            <source>Clear list</source>
            <translation>清空列表</translation>
        </message>
    </context>
    <context>
        <name>GpuPalette</name>
        <message>
            <location filename="../../gui/palette.py" line="89" />
            <source>Name:</source>
            <translation>名称：</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="133" />
            <source>Memory</source>
            <translation>显存</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="43" />
            <source>Consumer</source>
            <translation>消费级</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="44" />
            <source>Workstation</source>
            <translation>工作站</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="45" />
            <source>Datacenter</source>
            <translation>数据中心</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="46" />
            <source>Edge and mobile</source>
            <translation>边缘与移动端</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="47" />
            <source>Custom</source>
            <translation>自定义</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="78" />
            <location filename="../../gui/palette.py" line="129" />
            <source>Add a custom GPU</source>
            <translation>添加自定义 GPU</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="81" />
            <source>e.g. My lab card</source>
            <translation>例如：实验室的卡</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="83" />
            <source>e.g. 24GiB or 80GB</source>
            <translation>例如 24GiB 或 80GB</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="84" />
            <source>Memory as the driver reports it; GB = 10⁹ bytes, GiB = 2³⁰ bytes</source>
            <translation>填写驱动报告的显存；GB = 10⁹ 字节，GiB = 2³⁰ 字节</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="90" />
            <source>Memory:</source>
            <translation>显存：</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="104" />
            <source>added by the user</source>
            <translation>用户添加</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="110" />
            <source>Could not save: {0}</source>
            <translation>无法保存：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="123" />
            <source>Search GPUs…</source>
            <translation>搜索 GPU…</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="125" />
            <source>Search GPUs</source>
            <translation>搜索 GPU</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="128" />
            <source>Add a custom GPU (name and memory)</source>
            <translation>添加自定义 GPU（名称和显存）</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="133" />
            <source>GPU</source>
            <translation>GPU</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="145" />
            <source>Drag a GPU onto a node, or onto empty canvas to create a node</source>
            <translation>把 GPU 拖到节点上；拖到空白画布上则新建节点</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="192" />
            <source>{0} ({1}): {2} = {3}, as the driver reports it{4}</source>
            <translation>{0}（{1}）：{2} = {3}，按驱动报告的显存{4}</translation>
        </message>
        <message>
            <location filename="../../gui/palette.py" line="194" />
            <source>; sold as {0}</source>
            <translation>；标称 {0}</translation>
        </message>
    </context>
    <context>
        <name>GridDialog</name>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="16" />
            <source>Fill with TP × PP × DP grid</source>
            <translation>按 TP × PP × DP 网格填充</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="18" />
            <source>Cards get roles in Megatron rank order: TP fastest, then DP, PP slowest.
The selected nodes have {0} slots; empty slots are filled.</source>
            <translation>按 Megatron 的 rank 顺序给卡分配角色：TP 变化最快，其次是 DP，PP 最慢。
选中的节点共有 {0} 个卡槽；空卡槽会被填上。</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="21" />
            <source>Tensor parallel (TP):</source>
            <translation>张量并行（TP）：</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="22" />
            <source>Pipeline stages (PP):</source>
            <translation>流水线阶段数（PP）：</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/grid_dialog.py" line="23" />
            <source>Data parallel / ZeRO (DP):</source>
            <translation>数据并行 / ZeRO（DP）：</translation>
        </message>
    </context>
    <context>
        <name>Language</name>
        <message>
            <location filename="../../gui/i18n.py" line="89" />
            <source>&amp;Language</source>
            <translation>语言(&amp;L)</translation>
        </message>
        <message>
            <location filename="../../gui/i18n.py" line="92" />
            <source>Follow the system</source>
            <translation>跟随系统</translation>
        </message>
        <message>
            <location filename="../../gui/i18n.py" line="104" />
            <source>The language changes to {language} the next time vramplan starts.</source>
            <translation>下次启动 vramplan 时，界面语言将切换为“{language}”。</translation>
        </message>
    </context>
    <context>
        <name>LaunchImport</name>
        <message>
            <location filename="../../gui/launch_import.py" line="32" />
            <source>Import launch config</source>
            <translation>导入启动配置</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="38" />
            <source>Megatron-LM arguments</source>
            <translation>Megatron-LM 参数</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="39" />
            <source>DeepSpeed config (JSON, applied to the current model)</source>
            <translation>DeepSpeed 配置（JSON，应用于当前模型）</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="40" />
            <source>Format:</source>
            <translation>格式：</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="45" />
            <source>GPU:</source>
            <translation>GPU：</translation>
        </message>
        <message>
            <location filename="../../gui/launch_import.py" line="48" />
            <source>Paste e.g. torchrun … pretrain_gpt.py --tensor-model-parallel-size 2 …</source>
            <translation>粘贴启动命令，例如 torchrun … pretrain_gpt.py --tensor-model-parallel-size 2 …</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <location filename="../../gui/main_window.py" line="105" />
            <source>GPUs</source>
            <translation>GPU</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="116" />
            <source>Workload</source>
            <translation>工作负载</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="117" />
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="118" />
            <source>Stages</source>
            <translation>阶段</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="119" />
            <source>Plan settings</source>
            <translation>方案设置</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="122" />
            <source>Warnings</source>
            <translation>警告</translation>
        </message>
        <message>
            <location filename="../../gui/main_window.py" line="132" />
            <source>Planner</source>
            <translation>规划器</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="49" />
            <source>&amp;Undo</source>
            <translation>撤销(&amp;U)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="51" />
            <source>&amp;Redo</source>
            <translation>重做(&amp;R)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="53" />
            <source>Undo</source>
            <translation>撤销</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="54" />
            <source>Redo</source>
            <translation>重做</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="79" />
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="82" />
            <source>New from &amp;Template</source>
            <translation>从模板新建(&amp;T)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="88" />
            <source>Export &amp;PDF…</source>
            <translation>导出 PDF(&amp;P)…</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="89" />
            <source>Export &amp;Launch Config…</source>
            <translation>导出启动配置(&amp;L)…</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="90" />
            <source>&amp;Import Launch Config…</source>
            <translation>导入启动配置(&amp;I)…</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="97" />
            <source>&amp;Quit</source>
            <translation>退出(&amp;Q)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="101" />
            <source>&amp;Edit</source>
            <translation>编辑(&amp;E)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="103" />
            <source>&amp;Layout</source>
            <translation>布局(&amp;L)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="114" />
            <source>Pipeline &amp;Stage</source>
            <translation>流水线阶段(&amp;S)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="121" />
            <source>&amp;View</source>
            <translation>视图(&amp;V)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="122" />
            <source>&amp;Units</source>
            <translation>单位(&amp;U)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="125" />
            <source>GB (10⁹ bytes)</source>
            <translation>GB（10⁹ 字节）</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="126" />
            <source>GiB (2³⁰ bytes)</source>
            <translation>GiB（2³⁰ 字节）</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="131" />
            <source>&amp;Dark Theme</source>
            <translation>深色主题(&amp;D)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="147" />
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="149" />
            <source>&amp;About vramplan</source>
            <translation>关于 vramplan(&amp;A)</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="153" />
            <source>Main toolbar</source>
            <translation>主工具栏</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="160" />
            <source>New</source>
            <translation>新建</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="161" />
            <source>Open</source>
            <translation>打开</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="162" />
            <source>Save</source>
            <translation>保存</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="172" />
            <source>Units for every figure: GB = 10⁹ bytes, GiB = 2³⁰ bytes</source>
            <translation>所有数值的单位：GB = 10⁹ 字节，GiB = 2³⁰ 字节</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="187" />
            <source>Pipeline Stage</source>
            <translation>流水线阶段</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="221" />
            <source>Export PDF</source>
            <translation>导出 PDF</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="230" />
            <location filename="../../gui/window_actions.py" line="259" />
            <source>Exported {file}</source>
            <translation>已导出 {file}</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="239" />
            <source>Import launch config</source>
            <translation>导入启动配置</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="243" />
            <source>Imported; flags without effect on memory: {flags}</source>
            <translation>已导入；不影响显存的参数：{flags}</translation>
        </message>
        <message>
            <location filename="../../gui/window_actions.py" line="250" />
            <source>Export launch config</source>
            <translation>导出启动配置</translation>
        </message>
    </context>
    <context>
        <name>ModelPanel</name>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="42" />
            <source>Model</source>
            <translation>模型</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="45" />
            <source>Custom</source>
            <translation>自定义</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="49" />
            <source>Preset:</source>
            <translation>预设：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="50" />
            <source>Open config.json…</source>
            <translation>打开 config.json…</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="51" />
            <source>Read a Hugging Face config.json offline; you can also drop it on the window</source>
            <translation>离线读取 Hugging Face 的 config.json；也可以直接拖到窗口上</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="57" />
            <source>Layers:</source>
            <translation>层数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="58" />
            <source>Hidden size:</source>
            <translation>隐藏层维度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="59" />
            <source>Attention heads:</source>
            <translation>注意力头数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="60" />
            <source>KV heads:</source>
            <translation>KV 头数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="60" />
            <source>= heads</source>
            <translation>= 注意力头数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="61" />
            <source>MLP size:</source>
            <translation>MLP 维度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="61" />
            <source>4 × hidden</source>
            <translation>4 × 隐藏层维度</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="62" />
            <source>Vocabulary:</source>
            <translation>词表大小：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="62" />
            <source>not given</source>
            <translation>未指定</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="63" />
            <source>Without a vocabulary the declared parameter count is used (the article's level)</source>
            <translation>未指定词表时使用标称参数量（与文章的粒度一致）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="65" />
            <source>Save as my preset…</source>
            <translation>存为我的预设…</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="67" />
            <source>Keep this model in your own catalog (a JSON file you can share)</source>
            <translation>把这个模型存进你自己的目录（一个可以分享的 JSON 文件）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="77" />
            <source>Architecture</source>
            <translation>模型结构</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="78" />
            <source>Head dimension:</source>
            <translation>头维度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="79" />
            <source>hidden / heads</source>
            <translation>隐藏层维度 / 头数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="80" />
            <source>Norm:</source>
            <translation>归一化：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="82" />
            <source>Dropout:</source>
            <translation>Dropout：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="83" />
            <source>Gated MLP (SwiGLU, 3 matrices)</source>
            <translation>门控 MLP（SwiGLU，3 个矩阵）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="84" />
            <source>Biases on linear layers</source>
            <translation>线性层带偏置</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="85" />
            <source>Tied input and output embeddings</source>
            <translation>输入与输出嵌入共享权重</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="93" />
            <source>Save model preset</source>
            <translation>保存模型预设</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="94" />
            <source>Preset name:</source>
            <translation>预设名称：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="106" />
            <source>Saved to {path}</source>
            <translation>已保存到 {path}</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="114" />
            <source>Name:</source>
            <translation>名称：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="117" />
            <location filename="../../gui/panels/model_panel.py" line="183" />
            <source>e.g. 13B or 13e9</source>
            <translation>例如 13B 或 13e9</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="120" />
            <source>Parameters:</source>
            <translation>参数量：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="124" />
            <source>Counted:</source>
            <translation>按结构计算：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="132" />
            <source>Use model {name}</source>
            <translation>使用模型 {name}</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="137" />
            <source>Rename model</source>
            <translation>重命名模型</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="149" />
            <source>Set parameter count</source>
            <translation>设置参数量</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="152" />
            <source>Open model config</source>
            <translation>打开模型配置</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="152" />
            <source>Model config (*.json);;All files (*)</source>
            <translation>模型配置 (*.json);;所有文件 (*)</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="165" />
            <source>Load model from {file}</source>
            <translation>从 {file} 加载模型</translation>
        </message>
        <message>
            <location filename="../../gui/panels/model_panel.py" line="183" />
            <source>from the architecture</source>
            <translation>由模型结构计算</translation>
        </message>
    </context>
    <context>
        <name>NodeItem</name>
        <message>
            <location filename="../../gui/diagram/node_item.py" line="73" />
            <source>{0} slots</source>
            <translation>{0} 个卡槽</translation>
        </message>
    </context>
    <context>
        <name>NoticeBar</name>
        <message>
            <location filename="../../gui/panels/notice_bar.py" line="25" />
            <source>Dismiss</source>
            <translation>关闭</translation>
        </message>
    </context>
    <context>
        <name>PlannerPanel</name>
        <message>
            <location filename="../../gui/planner_panel.py" line="184" />
            <source>GPU</source>
            <translation>GPU</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="138" />
            <location filename="../../gui/planner_panel.py" line="239" />
            <source>Search layouts</source>
            <translation>搜索布局</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="140" />
            <source>Apply</source>
            <translation>应用</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="143" />
            <source>Pick a GPU and a card budget, then search.</source>
            <translation>选择 GPU 和卡数上限，然后搜索。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="166" />
            <source>cards (log)</source>
            <translation>卡数（对数）</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="178" />
            <source>Pareto front: fewer cards, less training time, more memory headroom. Colour: headroom of the heaviest card (red: tight, green: half free).</source>
            <translation>帕累托前沿：卡更少、训练时间更短、显存余量更多。颜色：占用最高那张卡的余量（红：紧张，绿：空闲一半）。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="184" />
            <source>GPUs per node</source>
            <translation>每节点 GPU 数</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="184" />
            <source>Max GPUs</source>
            <translation>最多 GPU 数</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="185" />
            <source>Objective</source>
            <translation>优化目标</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="185" />
            <source>Safety margin</source>
            <translation>安全余量</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="185" />
            <source>MFU</source>
            <translation>MFU</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="192" />
            <source>Fraction of each card's memory kept free</source>
            <translation>每张卡预留不用的显存比例</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="193" />
            <source>Fraction of the peak BF16 TFLOP/s the kernels reach</source>
            <translation>算子能达到的 BF16 峰值 TFLOP/s 的比例</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="220" />
            <location filename="../../gui/planner_panel.py" line="241" />
            <source>Cannot search: {0}</source>
            <translation>无法搜索：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="225" />
            <source>Searching up to {0} × {1} …</source>
            <translation>正在搜索，最多 {0} × {1} …</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="227" />
            <source>Restart search</source>
            <translation>重新搜索</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="270" />
            <source>even</source>
            <translation>均分</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="277" />
            <source>{0:,} configurations: {1:,} evaluated, {2:,} pruned; {3:,} layouts on the front.</source>
            <translation>共 {0:,} 种配置：评估 {1:,} 种，剪枝 {2:,} 种；前沿上有 {3:,} 种布局。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="280" />
            <source>No layout fits with a {0:.0%} margin. </source>
            <translation>留 {0:.0%} 余量时没有装得下的布局。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="281" />
            <source>Best ({0}): {1} cards, TP {2} × PP {3} × DP {4}, ZeRO-{5}; {6:.3g} s per step; binding: {7}.</source>
            <translation>最优（{0}）：{1} 张卡，TP {2} × PP {3} × DP {4}，ZeRO-{5}；每步 {6:.3g} 秒；瓶颈：{7}。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="287" />
            <source>days to train (log)</source>
            <translation>训练天数（对数）</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="288" />
            <source>Pareto front: fewer cards, less time to train {0:.3g} tokens, more memory headroom. Colour: headroom of the heaviest card (red: tight, green: half free); grey: front layouts beyond the first {1} listed.</source>
            <translation>帕累托前沿：卡更少、训练 {0:.3g} 个 token 的时间更短、显存余量更多。颜色：占用最高那张卡的余量（红：紧张，绿：空闲一半）；灰：排在前 {1} 个之后的前沿布局。</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="323" />
            <source>Make this layout the plan's: {0}</source>
            <translation>把这个布局用作方案的布局：{0}</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="339" />
            <source>Apply planner layout {0}</source>
            <translation>应用规划器布局 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/planner_panel.py" line="340" />
            <source>Applied {0}; Edit ▸ Undo restores the previous layout.</source>
            <translation>已应用 {0}；编辑 ▸ 撤销 可恢复之前的布局。</translation>
        </message>
    </context>
    <context>
        <name>RoleActions</name>
        <message>
            <location filename="../../gui/diagram/actions.py" line="42" />
            <source>Set stage {0}</source>
            <translation>设为阶段 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="43" />
            <source>Put the selected cards on pipeline stage {0}</source>
            <translation>把选中的卡放到流水线阶段 {0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="45" />
            <source>S{0}</source>
            <translation>S{0}</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="48" />
            <source>New TP group</source>
            <translation>新建 TP 组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="48" />
            <source>The selected cards form one tensor-parallel group</source>
            <translation>选中的卡组成一个张量并行组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="49" />
            <source>TP group</source>
            <translation>TP 组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="51" />
            <source>New ZeRO/DP group</source>
            <translation>新建 ZeRO/DP 组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="52" />
            <source>The selected cards form one data-parallel (ZeRO) group</source>
            <translation>选中的卡组成一个数据并行（ZeRO）组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="53" />
            <source>DP group</source>
            <translation>DP 组</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="55" />
            <source>Fill with TP × PP × DP grid…</source>
            <translation>按 TP × PP × DP 网格填充…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="56" />
            <source>Give the selected nodes' cards a grid in Megatron rank order</source>
            <translation>按 Megatron 的 rank 顺序给选中节点的卡分配网格</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="57" />
            <source>Grid…</source>
            <translation>网格…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="59" />
            <source>Delete</source>
            <translation>删除</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="60" />
            <source>Delete the selected cards (or the current node)</source>
            <translation>删除选中的卡（或当前节点）</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="62" />
            <source>Duplicate node ×N…</source>
            <translation>复制节点 ×N…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="63" />
            <source>Add copies of the node as data-parallel replicas</source>
            <translation>添加该节点的副本，作为数据并行副本</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="64" />
            <source>Duplicate…</source>
            <translation>复制…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="66" />
            <source>Rename node…</source>
            <translation>重命名节点…</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="66" />
            <source>Rename the selected node</source>
            <translation>重命名选中的节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="67" />
            <source>Rename</source>
            <translation>重命名</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="69" />
            <location filename="../../gui/diagram/actions.py" line="183" />
            <source>Arrange nodes</source>
            <translation>排列节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="69" />
            <source>Place all nodes on a tidy grid</source>
            <translation>把所有节点整齐排成网格</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="70" />
            <source>Arrange</source>
            <translation>排列</translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="130" />
            <source>Set stage {0} on %n card(s)</source>
            <translation>
                <numerusform>将 %n 张卡设为阶段 {0}</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="135" />
            <source>New TP group of %n card(s)</source>
            <translation>
                <numerusform>用 %n 张卡新建 TP 组</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="140" />
            <source>New ZeRO/DP group of %n card(s)</source>
            <translation>
                <numerusform>用 %n 张卡新建 ZeRO/DP 组</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="146" />
            <source>Delete %n card(s)</source>
            <translation>
                <numerusform>删除 %n 张卡</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="149" />
            <source>Delete %n node(s)</source>
            <translation>
                <numerusform>删除 %n 个节点</numerusform>
            </translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="156" />
            <source>Duplicate node</source>
            <translation>复制节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="157" />
            <source>Copies (added as data-parallel replicas):</source>
            <translation>副本数（作为数据并行副本添加）：</translation>
        </message>
        <message numerus="yes">
            <location filename="../../gui/diagram/actions.py" line="161" />
            <source>Duplicate %n node(s)</source>
            <translation>
                <numerusform>复制 %n 个节点</numerusform>
            </translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="173" />
            <location filename="../../gui/diagram/actions.py" line="176" />
            <source>Rename node</source>
            <translation>重命名节点</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="173" />
            <source>Name:</source>
            <translation>名称：</translation>
        </message>
        <message>
            <location filename="../../gui/diagram/actions.py" line="198" />
            <source>Fill grid TP {0} × PP {1} × DP {2}</source>
            <translation>填充网格 TP {0} × PP {1} × DP {2}</translation>
        </message>
    </context>
    <context>
        <name>StagesPanel</name>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="28" />
            <source>Layers per pipeline stage</source>
            <translation>每个流水线阶段的层数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="31" />
            <source>Even split</source>
            <translation>均分</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="72" />
            <source> layers</source>
            <translation> 层</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="77" />
            <source>Stage {n}:</source>
            <translation>阶段 {n}：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="89" />
            <source>{stages} stage(s), model has {layers} layers</source>
            <translation>{stages} 个阶段，模型共 {layers} 层</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="95" />
            <source>Split layers evenly</source>
            <translation>均分各阶段的层数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="95" />
            <source>Edit layers per stage</source>
            <translation>编辑每阶段层数</translation>
        </message>
        <message>
            <location filename="../../gui/panels/stages_panel.py" line="101" />
            <source>Set layers per stage</source>
            <translation>设置每阶段层数</translation>
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
            <location filename="../../gui/panels/workload_panel.py" line="38" />
            <location filename="../../gui/panels/workload_panel.py" line="48" />
            <source>Serving</source>
            <translation>推理服务</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="38" />
            <location filename="../../gui/panels/workload_panel.py" line="50" />
            <source>Fine-tuning</source>
            <translation>微调</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="45" />
            <source>Mode</source>
            <translation>模式</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="46" />
            <source>Training</source>
            <translation>训练</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="51" />
            <source>Workload:</source>
            <translation>工作负载：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="57" />
            <source>Training workload</source>
            <translation>训练负载</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="58" />
            <source>Sequence length:</source>
            <translation>序列长度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="58" />
            <source> tokens</source>
            <translation> token</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="59" />
            <source>Micro-batch:</source>
            <translation>微批次：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="60" />
            <source>Global batch:</source>
            <translation>全局批次：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="60" />
            <source>auto (fill the pipeline)</source>
            <translation>自动（填满流水线）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="61" />
            <source>Samples per optimizer step; auto runs one micro-batch per pipeline stage</source>
            <translation>每个优化器步的样本数；自动时每个流水线阶段跑一个微批次</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="62" />
            <source>Precision:</source>
            <translation>精度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="63" />
            <source>Optimizer:</source>
            <translation>优化器：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="64" />
            <source>Recompute:</source>
            <translation>重计算：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="65" />
            <source>none</source>
            <translation>无</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="65" />
            <source>selective</source>
            <translation>选择性</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="65" />
            <source>full</source>
            <translation>完全</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="66" />
            <source>Flash attention</source>
            <translation>Flash Attention</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="67" />
            <source>Sequence parallel (with TP)</source>
            <translation>序列并行（配合 TP）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="70" />
            <source>Sharding and offload</source>
            <translation>切分与卸载</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="71" />
            <source>ZeRO stage:</source>
            <translation>ZeRO 阶段：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="72" />
            <source>0 (none)</source>
            <translation>0（不切分）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="72" />
            <source>1 (optimizer states)</source>
            <translation>1（优化器状态）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="72" />
            <source>2 (+ gradients)</source>
            <translation>2（+ 梯度）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="73" />
            <source>3 (+ weights)</source>
            <translation>3（+ 权重）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="74" />
            <source>Distributed optimizer (Megatron)</source>
            <translation>分布式优化器（Megatron）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="75" />
            <source>Offload optimizer states to CPU</source>
            <translation>优化器状态卸载到 CPU</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="76" />
            <source>Offload parameters to CPU (ZeRO-3)</source>
            <translation>参数卸载到 CPU（ZeRO-3）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="79" />
            <source>Memory method</source>
            <translation>显存估算方法</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="80" />
            <source>Method:</source>
            <translation>方法：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="81" />
            <source>seed (the article's rules)</source>
            <translation>seed（文章的规则）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="81" />
            <source>detailed</source>
            <translation>详细</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="82" />
            <source>seed: 18 B/param and 40·S·H·L activations, no overheads; detailed: framework-accurate</source>
            <translation>seed：每参数 18 字节，激活 40·S·H·L，不计额外开销；详细：按框架精确计算</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="83" />
            <source>Framework:</source>
            <translation>框架：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="85" />
            <source>Hugging Face (transformers eager)</source>
            <translation>Hugging Face（transformers eager）</translation>
        </message>
        <message>
            <location filename="../../gui/panels/workload_panel.py" line="86" />
            <source>Allocator reserve:</source>
            <translation>分配器预留：</translation>
        </message>
    </context>
    <context>
        <name>chart</name>
        <message>
            <location filename="../../gui/chart.py" line="43" />
            <source>weights</source>
            <translation>权重</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="44" />
            <source>gradients</source>
            <translation>梯度</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="45" />
            <source>optimizer states</source>
            <translation>优化器状态</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="46" />
            <source>activations</source>
            <translation>激活</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="47" />
            <source>logits</source>
            <translation>logits</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="48" />
            <source>communication</source>
            <translation>通信</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="49" />
            <source>KV cache</source>
            <translation>KV 缓存</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="50" />
            <source>overhead</source>
            <translation>额外开销</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="76" />
            <source>card</source>
            <translation>卡</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="126" />
            <source>memory ({unit})</source>
            <translation>显存（{unit}）</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="185" />
            <source>Cannot estimate:</source>
            <translation>无法估算：</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="188" />
            <source>No cards in the plan</source>
            <translation>方案中没有卡</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="190" />
            <source>✔ Fits</source>
            <translation>✔ 装得下</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="191" />
            <source>✘ Does not fit</source>
            <translation>✘ 装不下</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="194" />
            <source>{amount} headroom</source>
            <translation>余量 {amount}</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="195" />
            <source>over by {amount}</source>
            <translation>超出 {amount}</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="196" />
            <source>worst: card #{index} (stage {stage}, {gpu}) {total} of {capacity}, {headroom}</source>
            <translation>最满：卡 #{index}（阶段 {stage}，{gpu}）{total} / {capacity}，{headroom}</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="201" />
            <source>1 card</source>
            <translation>1 张卡</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="201" />
            <source>{count} cards</source>
            <translation>{count} 张卡</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="208" />
            <source>Card #{index} · {gpu} · stage {stage} · TP {tp_rank}/{tp} · DP {dp_rank}/{dp}</source>
            <translation>卡 #{index} · {gpu} · 阶段 {stage} · TP {tp_rank}/{tp} · DP {dp_rank}/{dp}</translation>
        </message>
        <message>
            <location filename="../../gui/chart.py" line="215" />
            <source>total {total} of {capacity}</source>
            <translation>合计 {total} / {capacity}</translation>
        </message>
    </context>
    <context>
        <name>panels</name>
        <message>
            <location filename="../../gui/panels/form.py" line="182" />
            <source>Set {field}</source>
            <translation>设置{field}</translation>
        </message>
    </context>
    <context>
        <name>section_form</name>
        <message>
            <location filename="../../gui/panels/section_form.py" line="45" />
            <source>Weight format:</source>
            <translation>权重格式：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="46" />
            <source>KV cache type:</source>
            <translation>KV 缓存类型：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="47" />
            <source>Context (tokens):</source>
            <translation>上下文长度（token）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="48" />
            <source>Concurrent sequences:</source>
            <translation>并发序列数：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="49" />
            <source>Runtime:</source>
            <translation>推理框架：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="50" />
            <source>GPU layers (llama.cpp):</source>
            <translation>GPU 层数（llama.cpp）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="51" />
            <source>GPU memory share (vLLM):</source>
            <translation>显存占用比例（vLLM）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="52" />
            <source>KV free fraction (TRT-LLM):</source>
            <translation>KV 空闲显存比例（TRT-LLM）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="53" />
            <source>Max model length:</source>
            <translation>最大模型长度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="54" />
            <source>KV block (tokens):</source>
            <translation>KV 块大小（token）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="55" />
            <source>Prefill chunk (tokens):</source>
            <translation>Prefill 分块（token）：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="56" />
            <source>Method:</source>
            <translation>方法：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="57" />
            <source>LoRA rank:</source>
            <translation>LoRA 秩：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="58" />
            <source>LoRA alpha:</source>
            <translation>LoRA alpha：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="59" />
            <source>Sequence length:</source>
            <translation>序列长度：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="60" />
            <source>Micro-batch:</source>
            <translation>微批次：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="61" />
            <source>Base weights:</source>
            <translation>基座权重：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="62" />
            <source>Adapter weights:</source>
            <translation>适配器权重：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="63" />
            <source>QLoRA format:</source>
            <translation>QLoRA 格式：</translation>
        </message>
        <message>
            <location filename="../../gui/panels/section_form.py" line="113" />
            <source>auto</source>
            <translation>自动</translation>
        </message>
    </context>
    <context>
        <name>templates</name>
        <message>
            <location filename="../../gui/templates.py" line="26" />
            <source>13B: PP4 × ZeRO-1 DP2 on 8 × 80 GB (article, seed)</source>
            <translation>13B：8 × 80 GB 上 PP4 × ZeRO-1 DP2（文章，seed）</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="27" />
            <source>13B: PP8 on 8 × 80 GB (article, seed)</source>
            <translation>13B：8 × 80 GB 上 PP8（文章，seed）</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="28" />
            <source>13B: ZeRO-1 DP8 only (article: does not fit)</source>
            <translation>13B：仅 ZeRO-1 DP8（文章：装不下）</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="29" />
            <source>13B: PP4 × ZeRO-1 DP2, detailed method (Megatron)</source>
            <translation>13B：PP4 × ZeRO-1 DP2，详细方法（Megatron）</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="30" />
            <source>70B: TP8 × PP5 × DP2 on 80 × 80 GB</source>
            <translation>70B：80 × 80 GB 上 TP8 × PP5 × DP2</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="31" />
            <source>6B: serving on one RTX 4090, bf16</source>
            <translation>6B：单张 RTX 4090 推理，bf16</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="32" />
            <source>6B: serving on one RTX 4090, int4</source>
            <translation>6B：单张 RTX 4090 推理，int4</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="33" />
            <source>13B: serving on one A10, int4</source>
            <translation>13B：单张 A10 推理，int4</translation>
        </message>
        <message>
            <location filename="../../gui/templates.py" line="34" />
            <source>70B: serving on 4 × H100 with vLLM</source>
            <translation>70B：4 × H100 上用 vLLM 推理</translation>
        </message>
    </context>
    <context>
        <name>warnings</name>
        <message>
            <location filename="../../gui/warnings_panel.py" line="45" />
            <source>No warnings</source>
            <translation>没有警告</translation>
        </message>
        <message>
            <location filename="../../gui/warnings_panel.py" line="54" />
            <source>Click to highlight the {count} card(s) concerned</source>
            <translation>点击高亮相关的 {count} 张卡</translation>
        </message>
    </context>
</TS>
